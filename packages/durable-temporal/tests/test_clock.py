"""Requests built in a workflow are stamped with `workflow.now()`, not the system clock.

On the time-skipping test server the workflow sleeps a month before each run, so workflow time and the system
clock are a month apart: a request stamped by the system clock falls outside the run's window of workflow time.
"""

from __future__ import annotations

import uuid
import warnings

import pytest
from _wf_clock import (
    HISTORY_CASES,
    HISTORY_TIMES,
    ClockReport,
    ClockWorkflow,
    HistoryClockWorkflow,
    HistoryReport,
    history_agent,
    history_of,
    history_prompt,
)
from durable_core import NotDurableWarning
from durable_temporal import PydanticAIPlugin
from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter, ModelRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker


async def test_requests_carry_workflow_time(time_skipping_env: WorkflowEnvironment, task_queue: str) -> None:
    config = time_skipping_env.client.config()
    config['plugins'] = [PydanticAIPlugin()]
    client = Client(**config)
    async with Worker(client, task_queue=task_queue, workflows=[ClockWorkflow]):
        handle = await client.start_workflow(ClockWorkflow.run, id=f'clock-{uuid.uuid4()}', task_queue=task_queue)
        report: ClockReport = await handle.result()
    first, second = report.requests[: report.first_count], report.requests[report.first_count :]
    assert len(first) == len(second) == 2  # each run: the prompt, then the tool's return
    for times in first:  # the history the second run was given keeps the first run's times
        assert report.first_start <= times.request <= report.first_end
        assert all(report.first_start <= part <= report.first_end for part in times.parts)
    for times in second:
        assert report.second_start <= times.request <= report.second_end
        assert all(report.second_start <= part <= report.second_end for part in times.parts)
    await Replayer(workflows=[ClockWorkflow], plugins=[PydanticAIPlugin()]).replay_workflow(
        await handle.fetch_history()
    )


def _first_of_run(messages: list[ModelMessage], run_id: str) -> int:
    """The index of the first message the run made (or sent again): the history before it is the given one."""
    return next(index for index, message in enumerate(messages) if message.run_id == run_id)


@pytest.mark.parametrize('case', HISTORY_CASES)
async def test_history_keeps_its_timestamps(time_skipping_env: WorkflowEnvironment, task_queue: str, case: str) -> None:
    """The history comes back as the plain agent returns it, its own timestamps kept; new requests get workflow time.

    PydanticAI rebuilds a history it merges (two requests in a row) or cleans (a retry prompt answering no call) as
    new message objects, and a run without a prompt sends the history's last request again: none of that may take
    the workflow's clock but the request sent, as the plain agent stamps only that one with its clock.
    """
    history = history_of(case)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotDurableWarning)  # the plain agent, outside a workflow, is not durable
        plain = await history_agent.run(history_prompt(case), message_history=history)
    assert history == history_of(case)
    plain_messages = ModelMessagesTypeAdapter.validate_json(ModelMessagesTypeAdapter.dump_json(plain.all_messages()))
    k = _first_of_run(plain_messages, plain.run_id)

    config = time_skipping_env.client.config()
    config['plugins'] = [PydanticAIPlugin()]
    client = Client(**config)
    async with Worker(client, task_queue=task_queue, workflows=[HistoryClockWorkflow]):
        handle = await client.start_workflow(
            HistoryClockWorkflow.run, case, id=f'history-clock-{uuid.uuid4()}', task_queue=task_queue
        )
        report: HistoryReport = await handle.result()
    messages = ModelMessagesTypeAdapter.validate_json(report.messages)

    assert report.history_unchanged
    assert _first_of_run(messages, report.run_id) == k
    assert messages[:k] == plain_messages[:k]  # timestamps included
    history_times = set(HISTORY_TIMES)
    assert {message.timestamp for message in messages[:k]} <= history_times
    new_requests = [message for message in messages[k:] if isinstance(message, ModelRequest)]
    plain_requests = [message for message in plain_messages[k:] if isinstance(message, ModelRequest)]
    assert len(new_requests) == len(plain_requests) == 2  # the prompt's (or the resumed one), the tool's return
    for request, plain_request in zip(new_requests, plain_requests, strict=True):
        assert request.timestamp is not None
        assert report.start <= request.timestamp <= report.end
        for part, plain_part in zip(request.parts, plain_request.parts, strict=True):
            if plain_part.timestamp in history_times:  # a part of the history, sent again
                assert part.timestamp == plain_part.timestamp
            else:
                assert report.start <= part.timestamp <= report.end
    await Replayer(workflows=[HistoryClockWorkflow], plugins=[PydanticAIPlugin()]).replay_workflow(
        await handle.fetch_history()
    )
