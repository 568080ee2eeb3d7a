"""2.68's `continue_as_new=` hook: a long run continues as new when the server suggests it, and completes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from _temporal_support import WorkerProcesses
from _wf_continue_as_new import (
    BIG_PAGE_BYTES,
    BIG_PAGES,
    BIG_SEEN,
    PAGES_READ,
    REQUESTS,
    AutoContinuedWorkflow,
    BigAutoWorkflow,
    ContinuedCapabilityWorkflow,
    ContinuedWorkflow,
    InlineWorkflow,
    LimitedWorkflow,
)
from _wf_linear import (
    SETTINGS,
    THOUSAND_STEPS,
    UNLIMITED,
    AutoContinuedLongRunWorkflow,
    ThousandStepWorkflow,
    auto_agent,
    check_each_call_once,
    seen_by_step,
    thousand_agent,
)
from _wf_size import page
from durable_core import DurableUsageError
from durable_core.testing import DurableCallCounter, TemporalDevServer
from durable_temporal import PydanticAIPlugin, TemporalDurability
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolReturnPart, UserPromptPart
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.worker import Worker

SUGGEST_AFTER_EVENTS = 60
"""The server suggests continuing as new past this many history events (4,096 by default): every few steps here."""


@pytest.fixture(scope='module')
def suggesting_server() -> Iterator[TemporalDevServer]:
    extra = ['--dynamic-config-value', f'limit.historyCount.suggestContinueAsNew={SUGGEST_AFTER_EVENTS}']
    with TemporalDevServer(extra_args=extra) as server:
        yield server


@pytest_asyncio.fixture(loop_scope='session')
async def client(suggesting_server: TemporalDevServer) -> AsyncIterator[Client]:
    yield await Client.connect(suggesting_server.target, plugins=[PydanticAIPlugin()])


def _tool_returns(messages: list[ModelMessage]) -> list[str]:
    return [
        str(part.content)
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    ]


@pytest.mark.parametrize(
    'workflow_class', [ContinuedWorkflow, ContinuedCapabilityWorkflow], ids=['wrapper', 'capability']
)
async def test_a_long_run_continues_as_new_and_completes(
    client: Client, task_queue: str, workflow_class: type[ContinuedWorkflow] | type[ContinuedCapabilityWorkflow]
) -> None:
    PAGES_READ.clear()
    REQUESTS.clear()
    steps = 40
    async with Worker(client, task_queue=task_queue, workflows=[workflow_class]):
        handle = await client.start_workflow(
            workflow_class.run, args=[f'{steps} steps please'], id=f'continued-{uuid.uuid4()}', task_queue=task_queue
        )
        messages, requests = await handle.result()
    # It continued as new several times, each run carrying more of the conversation than the one before.
    carried = [count async for count in _messages_carried(client, handle)]
    assert len(carried) >= 3, carried
    assert carried[0] == 0, carried
    assert carried == sorted(set(carried)), carried
    # Every model request and tool call ran once (counted at the source), and the usage went on across runs.
    assert list(range(steps - 1)) == PAGES_READ
    assert len(REQUESTS) == steps
    assert requests == steps
    # The last run returns the whole conversation: every page once, in order, and the answer.
    assert _tool_returns(messages) == [page(step) for step in range(steps - 1)]
    last = messages[-1]
    assert isinstance(last, ModelResponse)
    assert last.text == f'Read {steps - 1} pages.'
    assert sum(isinstance(message, ModelResponse) for message in messages) == steps


async def _messages_carried(client: Client, handle: WorkflowHandle[Any, Any]) -> AsyncIterator[int]:
    """For each run of the chain, from the first: how many messages its input carried."""
    run_id: str | None = handle.first_execution_run_id
    while run_id:
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        payloads = started.input.payloads
        yield len(json.loads(payloads[1].data) or []) if len(payloads) > 1 else 0
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField('workflow_execution_continued_as_new_event_attributes')
            else None
        )


def _content(messages: list[ModelMessage]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """What each message says, without its timestamps and ids: the parts' kinds and contents."""
    return [
        (
            message.kind,
            [(part.part_kind, getattr(part, 'content', None) or getattr(part, 'args', None)) for part in message.parts],
        )
        for message in messages
    ]


async def test_auto_runs_the_agent_in_a_child_that_continues_as_new(client: Client, task_queue: str) -> None:
    """`continue_as_new='auto'`: the caller's `run()` returns the whole run's result, as an uninterrupted run's."""
    steps = 40
    history: list[ModelMessage] = [
        ModelRequest(parts=[UserPromptPart(f'{steps} steps please')]),
        ModelResponse(parts=[TextPart('Ready.')]),
    ]
    async with Worker(client, task_queue=task_queue, workflows=[AutoContinuedWorkflow, InlineWorkflow]):
        PAGES_READ.clear()
        REQUESTS.clear()
        handle = await client.start_workflow(
            AutoContinuedWorkflow.run, args=['go', history], id=f'auto-{uuid.uuid4()}', task_queue=task_queue
        )
        messages, new_count, requests, output, run_id = await handle.result()
        pages_read, requests_made = list(PAGES_READ), list(REQUESTS)
        PAGES_READ.clear()
        REQUESTS.clear()
        plain = await client.execute_workflow(
            InlineWorkflow.run, args=['go', history], id=f'inline-{uuid.uuid4()}', task_queue=task_queue
        )
    # The caller's workflow ran once; the agent's child workflow continued as new several times.
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    child_runs = [run async for run in _child_runs(client, handle)]
    assert len(child_runs) >= 4, child_runs
    # The first run's input carried the caller's history; each continued run's, the last response and the request.
    assert child_runs[0] == (len(history), 0)
    assert all(carried == 2 and earlier > 0 for carried, earlier in child_runs[1:]), child_runs
    # Every model request and tool call ran once, counted at the source, as in the uninterrupted run.
    assert pages_read
    assert pages_read == PAGES_READ
    assert sorted(set(pages_read)) == pages_read
    assert len(requests_made) == len(REQUESTS) == requests == plain[2]
    # The result is the uninterrupted run's: the messages (their parts), the new messages, the usage, the output.
    assert _content(messages) == _content(plain[0])
    assert new_count == plain[1] == len(messages) - len(history)
    assert output == plain[3]
    # One run id across the workflow runs, on every message the run made.
    assert {getattr(message, 'run_id', None) for message in messages[len(history) :]} == {run_id}


async def _child_runs(client: Client, parent: WorkflowHandle[Any, Any]) -> AsyncIterator[tuple[int, int]]:
    """For each workflow run of the agent's child workflow, from the first: how many messages its input carried, and
    how many it read from the run it continued."""
    history = await parent.fetch_history()
    [started] = [
        event.child_workflow_execution_started_event_attributes.workflow_execution
        for event in history.events
        if event.HasField('child_workflow_execution_started_event_attributes')
    ]
    run_id: str | None = started.run_id
    while run_id:
        events = (await client.get_workflow_handle(started.workflow_id, run_id=run_id).fetch_history()).events
        payloads = events[0].workflow_execution_started_event_attributes.input.payloads
        inputs = json.loads(payloads[1].data)
        continuation = json.loads(payloads[2].data) if payloads[2].data else None  # None: an empty binary/null
        earlier = (continuation or {}).get('earlier') or {}
        yield len(inputs['message_history'] or []), earlier.get('count', 0)
        last = events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField('workflow_execution_continued_as_new_event_attributes')
            else None
        )


def test_the_capability_refuses_auto() -> None:
    with pytest.raises(DurableUsageError, match=r"TemporalAgent\(agent, continue_as_new='auto'\)"):
        TemporalDurability(continue_as_new='auto')  # pyright: ignore[reportArgumentType]


LINEAR_PROMPT = 'Read the pages.'
AUTO_KILLED_AT = 20
"""The model request in flight when the first worker is killed: after the run has continued as new a few times."""


async def test_auto_run_sigkilled_after_continuing_resumes_on_a_fresh_worker(
    client: Client,
    suggesting_server: TemporalDevServer,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker SIGKILLed in a continued workflow run: a fresh worker process finishes the run, no call repeats, and
    the model saw at every step exactly what an uninterrupted run's model saw."""
    handle, expected = await _kill_and_resume(
        client,
        suggesting_server,
        AutoContinuedLongRunWorkflow,
        auto_agent,
        AUTO_KILLED_AT,
        task_queue,
        tmp_path,
        monkeypatch,
    )
    counter = DurableCallCounter(tmp_path / 'calls.log')
    continued = [run async for run in _child_runs(client, handle)]
    assert len(continued) >= 3, 'the run continued as new before the kill and after it'
    check_each_call_once(counter, expected, AUTO_KILLED_AT)


async def _kill_and_resume(
    client: Client,
    server: TemporalDevServer,
    workflow_class: type[AutoContinuedLongRunWorkflow] | type[ThousandStepWorkflow],
    agent: Agent[None, str],
    killed_at: int,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[WorkflowHandle[Any, str], dict[int, Counter[str]]]:
    """Run `agent` uninterrupted in this process, then its workflow on a worker process SIGKILLed at request
    `killed_at` and a fresh worker process; the workflow's handle and what the uninterrupted run's model saw."""
    plain = DurableCallCounter(tmp_path / 'plain.log')
    monkeypatch.setattr(SETTINGS, 'counter', plain)
    expected_output = (await agent.run(LINEAR_PROMPT, usage_limits=UNLIMITED)).output
    expected = seen_by_step(plain)
    assert len(expected) > killed_at

    counter = DurableCallCounter(tmp_path / 'calls.log')
    workers = WorkerProcesses('_linear_worker.py', server.target, task_queue, str(tmp_path / 'calls.log'))
    try:
        first = workers.start('--block-at', str(killed_at))
        handle = await client.start_workflow(
            workflow_class.run, LINEAR_PROMPT, id=f'killed-{uuid.uuid4()}', task_queue=task_queue
        )
        await asyncio.to_thread(counter.wait_for, f'blocked:{killed_at}', 1, timeout=1200)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        workers.start()
        assert await handle.result() == expected_output
    finally:
        workers.stop_all()
    return handle, expected


async def test_an_error_of_the_run_reaches_the_caller_as_without_auto(client: Client, task_queue: str) -> None:
    """Code that catches PydanticAI's `UsageLimitExceeded` around `run()` catches it from the child workflow too."""
    async with Worker(client, task_queue=task_queue, workflows=[LimitedWorkflow]):
        caught = [
            await client.execute_workflow(
                LimitedWorkflow.run, use_auto, id=f'limited-{uuid.uuid4()}', task_queue=task_queue
            )
            for use_auto in (True, False)
        ]
    assert caught[0] == caught[1]
    assert caught[0].startswith('UsageLimitExceeded: ')


async def test_auto_continues_a_conversation_over_the_payload_limit(client: Client, task_queue: str) -> None:
    """A 3.6 MB conversation: each continued run reads its first messages from the run it continued, and the caller
    reads the result's from the child's history, in parts under the payload limit."""
    BIG_SEEN.clear()
    async with Worker(client, task_queue=task_queue, workflows=[BigAutoWorkflow]):
        handle = await client.start_workflow(
            BigAutoWorkflow.run, 'Read the big pages.', id=f'big-auto-{uuid.uuid4()}', task_queue=task_queue
        )
        count, pages, new_count, requests, output = await handle.result()
    assert output == f'Read {BIG_PAGES} big pages.'
    # Each request was given every page read so far, once each: no request repeated, none lost a message.
    assert [step * BIG_PAGE_BYTES for step in range(BIG_PAGES + 1)] == BIG_SEEN
    assert requests == BIG_PAGES + 1
    assert pages == BIG_PAGES * BIG_PAGE_BYTES
    assert count == new_count == 2 * (BIG_PAGES + 1)
    child_runs = [run async for run in _child_runs(client, handle)]
    assert len(child_runs) >= 3, child_runs
    # Each continued run's input carried only the last response and the request to send; it read the rest.
    assert all(carried == 2 and earlier > 0 for carried, earlier in child_runs[1:]), child_runs
    assert [earlier for _, earlier in child_runs] == sorted({earlier for _, earlier in child_runs}), child_runs


THOUSAND_KILLED_AT = 500
"""The model request in flight when the 1,000-call run's worker is killed."""


@pytest.fixture(scope='module')
def thousand_server() -> Iterator[TemporalDevServer]:
    """A dev server that suggests continuing as new every 1,200 history events (about 100 steps of the agent)."""
    extra = ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=1200']
    with TemporalDevServer(extra_args=extra) as server:
        yield server


async def test_the_1000_call_run_sigkilled_midway_resumes_on_a_fresh_worker(
    thousand_server: TemporalDevServer, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 1,000-call agent (2 KB per tool result) with `continue_as_new='auto'`: its worker is SIGKILLed at the
    500th request, and a fresh worker process (empty caches) finishes the run: no call repeats, and the model saw at
    every step what an uninterrupted run's model saw."""
    client = await Client.connect(thousand_server.target, plugins=[PydanticAIPlugin()])
    handle, expected = await _kill_and_resume(
        client,
        thousand_server,
        ThousandStepWorkflow,
        thousand_agent,
        THOUSAND_KILLED_AT,
        task_queue,
        tmp_path,
        monkeypatch,
    )
    counter = DurableCallCounter(tmp_path / 'calls.log')
    runs = [run async for run in _child_runs(client, handle)]
    assert len(runs) >= 8, 'the run continued as new about every 100 steps'
    check_each_call_once(counter, expected, THOUSAND_KILLED_AT, THOUSAND_STEPS)
