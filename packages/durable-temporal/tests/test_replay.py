"""Determinism: histories of the test agents replay without a non-determinism error.

Each case runs its workflow on the dev server and replays the fresh history at once; the committed history in
``tests/histories/`` (recorded by an earlier version of the package) must replay too, so a change that would break
workflows in flight fails here. Re-record with ``DURABLE_TEMPORAL_RECORD_HISTORIES=1`` when a change is meant to.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from _temporal_support import plugin_client_fixture  # noqa: F401
from _wf_agent import GeographyWorkflow, ModelChoiceWorkflow
from _wf_features import ApprovalWorkflow, DynamicWorkflow, EventsWorkflow, InlineToolWorkflow, LocalToolWorkflow
from _wf_replay_changed import ChangedGeographyWorkflow
from durable_temporal import PydanticAIPlugin
from pydantic_ai import DeferredToolResults
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.worker import Replayer, Worker
from temporalio.workflow import NondeterminismError

HISTORIES = Path(__file__).parent / 'histories'
WORKFLOWS: list[type] = [
    GeographyWorkflow,
    ModelChoiceWorkflow,
    EventsWorkflow,
    ApprovalWorkflow,
    DynamicWorkflow,
    InlineToolWorkflow,
    LocalToolWorkflow,
]


async def _approve(handle: WorkflowHandle[Any, Any]) -> None:
    pending = await handle.execute_update(ApprovalWorkflow.pending_approvals)
    await handle.signal(ApprovalWorkflow.approve, DeferredToolResults(approvals=dict.fromkeys(pending, True)))


async def _nothing(handle: WorkflowHandle[Any, Any]) -> None:
    return None


CASES: dict[str, tuple[Any, Any, Callable[[WorkflowHandle[Any, Any]], Awaitable[None]]]] = {
    'geography': (GeographyWorkflow.run, 'What is the weather?', _nothing),
    'model_choice_fast': (ModelChoiceWorkflow.run, 'fast', _nothing),
    'model_choice_string': (ModelChoiceWorkflow.run, 'test', _nothing),
    'events': (EventsWorkflow.run, 'Shout hi', _nothing),
    'approval': (ApprovalWorkflow.run, 'Delete notes.txt', _approve),
    'dynamic': (DynamicWorkflow.run, 'Look up x', _nothing),
    'inline_tool': (InlineToolWorkflow.run, 'Both', _nothing),
    'local_tool': (LocalToolWorkflow.run, 'Look both up', _nothing),
}


def _replayer(*workflows: type) -> Replayer:
    return Replayer(workflows=list(workflows or WORKFLOWS), plugins=[PydanticAIPlugin()])


@pytest.mark.parametrize('case', sorted(CASES))
async def test_fresh_history_replays(plugin_client: Client, task_queue: str, case: str) -> None:
    run, argument, interact = CASES[case]
    workflow_id = f'replay-{case}-{uuid.uuid4()}'
    async with Worker(plugin_client, task_queue=task_queue, workflows=WORKFLOWS):
        handle = await plugin_client.start_workflow(run, argument, id=workflow_id, task_queue=task_queue)
        await interact(handle)
        await handle.result()
    history = await handle.fetch_history()
    await _replayer().replay_workflow(history)
    if os.environ.get('DURABLE_TEMPORAL_RECORD_HISTORIES'):
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f'{case}.json').write_text(history.to_json())


@pytest.mark.parametrize('case', sorted(CASES))
async def test_committed_history_replays(case: str) -> None:
    path = HISTORIES / f'{case}.json'
    assert path.exists(), f'{path} is missing: record it with DURABLE_TEMPORAL_RECORD_HISTORIES=1'
    history = WorkflowHistory.from_json(f'committed-{case}', path.read_text())
    await _replayer().replay_workflow(history)


async def test_a_changed_workflow_fails_replay() -> None:
    """The replay test can fail: the same workflow with its tool moved into the workflow is non-deterministic."""
    history = WorkflowHistory.from_json('committed-geography', (HISTORIES / 'geography.json').read_text())
    with pytest.raises(NondeterminismError):
        await _replayer(ChangedGeographyWorkflow).replay_workflow(history)
