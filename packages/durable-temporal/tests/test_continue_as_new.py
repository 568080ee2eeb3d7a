"""2.68's `continue_as_new=` hook: a long run continues as new when the server suggests it, and completes."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from _wf_continue_as_new import PAGES_READ, REQUESTS, ContinuedCapabilityWorkflow, ContinuedWorkflow
from _wf_size import page
from durable_core.testing import TemporalDevServer
from durable_temporal import PydanticAIPlugin
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolReturnPart
from temporalio.client import Client, WorkflowHandle
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
