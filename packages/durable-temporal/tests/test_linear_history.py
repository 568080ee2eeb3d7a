"""Linear workflow history (`_history`): a model request carries only its run's new messages, and the model still
sees every message, after a worker dies, when a history processor rewrites earlier ones, and on any worker."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _temporal_support import WorkerProcesses, activity_inputs, plugin_client_fixture  # noqa: F401
from _wf_linear import (
    LONG_STEPS,
    PROCESSED_STEPS,
    SETTINGS,
    LongRunWorkflow,
    ProcessedHistoryWorkflow,
    check_each_call_once,
    long_agent,
    named,
    processed_agent,
    seen_by_step,
)
from _wf_rebuild import BIG_PAGE_BYTES, SEEN, ClearingWorkflow, ForgetfulWorkflow, clearing_agent
from durable_core.testing import DurableCallCounter
from durable_core.testing._servers import TemporalDevServer
from durable_temporal import _history
from temporalio.client import Client
from temporalio.worker import Worker

HERE = Path(__file__).parent
PROMPT = 'Read the pages.'
KILLED_AT = 15
"""The model request in flight when the first worker is killed."""


@pytest.fixture
def workers(temporal_dev_server: TemporalDevServer, task_queue: str, tmp_path: Path) -> Iterator[WorkerProcesses]:
    started = WorkerProcesses('_linear_worker.py', temporal_dev_server.target, task_queue, str(tmp_path / 'calls.log'))
    try:
        yield started
    finally:
        started.stop_all()


async def model_request_arguments(handle: Any, agent_name: str) -> list[dict[str, Any]]:
    """The messages argument of each model request the workflow scheduled, in order."""
    return [inputs[0] for kind, inputs in await activity_inputs(handle) if kind == f'{agent_name}.model_request']


async def test_sigkilled_long_run_resumes_on_a_fresh_worker_with_the_same_messages(
    plugin_client: Client, workers: WorkerProcesses, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh worker has none of the earlier messages a request refers to: it must rebuild them from the workflow,
    so that the model sees at every step exactly what an uninterrupted run's model saw, and no call repeats."""
    plain = DurableCallCounter(tmp_path / 'plain.log')
    monkeypatch.setattr(SETTINGS, 'counter', plain)
    expected_output = (await long_agent.run(PROMPT)).output
    expected = seen_by_step(plain)
    assert sorted(expected) == list(range(LONG_STEPS + 1))

    counter = DurableCallCounter(tmp_path / 'calls.log')
    first = workers.start('--block-at', str(KILLED_AT))
    handle = await plugin_client.start_workflow(
        LongRunWorkflow.run, PROMPT, id=f'linear-{uuid.uuid4()}', task_queue=task_queue
    )
    await asyncio.to_thread(counter.wait_for, f'blocked:{KILLED_AT}', 1, timeout=120)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert named(counter, 'asked:') == {}, 'the first worker had every earlier message in its cache'

    workers.start()
    assert await handle.result() == expected_output

    check_each_call_once(counter, expected, KILLED_AT)

    arguments = await model_request_arguments(handle, 'linear_long')
    assert len(arguments) == LONG_STEPS + 1
    resumed = arguments[KILLED_AT]['earlier']
    assert resumed['count'] > 0, 'the request in flight at the kill refers to earlier messages'
    # Only the fresh worker's first request got them from the workflow; the later ones found them in its cache.
    # (Its attempts may time out asking, while the server still hands the workflow's tasks to the killed worker.)
    assert named(counter, 'rebuilt:') == {f'rebuilt:{resumed["count"]}': 1}
    # Linear: after the first request, each carries only the previous response and the new request.
    assert [len(argument['messages']) for argument in arguments[1:]] == [2] * LONG_STEPS


async def test_history_processor_rewriting_earlier_messages(
    plugin_client: Client, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history processor may drop or change messages an earlier request sent: each request must then refer only
    to what it still shares with the last one, and the model see exactly what the processor produced."""
    plain = DurableCallCounter(tmp_path / 'plain.log')
    monkeypatch.setattr(SETTINGS, 'counter', plain)
    expected_output = (await processed_agent.run(PROMPT)).output
    expected = seen_by_step(plain)
    assert sorted(expected) == list(range(PROCESSED_STEPS + 1))

    durable = DurableCallCounter(tmp_path / 'durable.log')
    monkeypatch.setattr(SETTINGS, 'counter', durable)
    async with Worker(plugin_client, task_queue=task_queue, workflows=[ProcessedHistoryWorkflow]):
        handle = await plugin_client.start_workflow(
            ProcessedHistoryWorkflow.run, PROMPT, id=f'linear-processed-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == expected_output

    assert seen_by_step(durable) == expected
    assert named(durable, 'tool:') == {f'tool:{step}': 1 for step in range(PROCESSED_STEPS)}
    arguments = await model_request_arguments(handle, 'linear_processed')
    counts = [argument['earlier']['count'] for argument in arguments]
    # Steps 1-3: all of the last request's messages; 4-7: only the first request; from 8: none (it was rewritten).
    assert counts == [0, 1, 3, 5, 1, 1, 1, 1] + [0] * (PROCESSED_STEPS - 7)


async def test_a_conversation_over_the_payload_limit_is_rebuilt_from_the_history(
    plugin_client: Client, task_queue: str
) -> None:
    """A worker without the run's messages reads them from the workflow's history, over several history pages."""
    SEEN['forgetful'].clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[ForgetfulWorkflow]):
        handle = await plugin_client.start_workflow(
            ForgetfulWorkflow.run, id=f'linear-forgetful-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'Read 4 pages.'
    # Each request had every page read so far: the last one 3.6 MB of them, 2.7 MB rebuilt from the history.
    assert SEEN['forgetful'] == [step * BIG_PAGE_BYTES for step in range(5)]
    arguments = await model_request_arguments(handle, 'forgetful')
    assert [argument['earlier']['count'] for argument in arguments] == [0, 1, 3, 5, 7]


async def test_a_model_that_changes_its_messages_does_not_change_the_next_request(
    plugin_client: Client, task_queue: str
) -> None:
    """The worker keeps its own copy of the run's messages: the list a model gets is the model's to change."""
    SEEN['clearing'].clear()
    await clearing_agent.run('Read the pages.')
    plain = list(SEEN['clearing'])
    SEEN['clearing'].clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[ClearingWorkflow]):
        assert (
            await plugin_client.execute_workflow(
                ClearingWorkflow.run, id=f'linear-clearing-{uuid.uuid4()}', task_queue=task_queue
            )
            == 'Read 4 pages.'
        )
    assert SEEN['clearing'] == plain == [1, 3, 5, 7, 9]


def test_the_cache_keeps_the_most_recent_runs_within_its_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long run's conversation can be tens of megabytes: a worker keeps only as many as its budget allows."""
    monkeypatch.setattr(_history, '_KNOWN', OrderedDict())
    monkeypatch.setattr(_history, 'CACHED_BYTES', 250)
    for index in range(4):
        _history._remember(('wf', 'run', f'agent-{index}'), _history._Known([], [], 100))  # pyright: ignore[reportPrivateUsage]
    assert list(_history._KNOWN) == [('wf', 'run', 'agent-2'), ('wf', 'run', 'agent-3')]  # pyright: ignore[reportPrivateUsage]
    _history._remember(('wf', 'run', 'huge'), _history._Known([], [], 1_000))  # pyright: ignore[reportPrivateUsage]
    assert list(_history._KNOWN) == [('wf', 'run', 'huge')]  # pyright: ignore[reportPrivateUsage]
