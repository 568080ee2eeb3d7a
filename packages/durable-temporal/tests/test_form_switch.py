"""A deploy can switch a running system between `TemporalAgent` and the capability form (`TemporalDurability`).

A history recorded by one form's workflow replays, without a non-determinism error, with the same workflow in the
other form: a worker of the new deploy can resume the old deploy's runs. The committed histories in `histories/`
(`form_switch_*.json`, recorded by an earlier version of the package) must replay in both forms too, so a release that
breaks the switch fails here; re-record them with ``DURABLE_TEMPORAL_RECORD_HISTORIES=1`` when a change is meant to.
A capability agent under another name, or without the tool the history called, must fail the replay. Live, a run
started by one form's worker, stopped in the middle of its tool call, finishes on the other form's worker with what an
uninterrupted run returns.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from _temporal_support import activity_types, plugin_client_fixture  # noqa: F401
from _wf_form_switch import (
    HOLD,
    LOOKUPS,
    CapabilitySwitchWorkflow,
    RenamedSwitchWorkflow,
    WithoutLookupSwitchWorkflow,
    WrapperSwitchWorkflow,
)
from durable_temporal import PydanticAIPlugin
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker
from temporalio.workflow import NondeterminismError

HISTORIES = Path(__file__).parent / 'histories'
FORMS: dict[str, type] = {'wrapper': WrapperSwitchWorkflow, 'capability': CapabilitySwitchWorkflow}
SWITCHES = [('wrapper', 'capability'), ('capability', 'wrapper')]
PROMPT = 'What does Lisbon cost?'
RETURNED = ['Lisbon costs 104 at noon.', 'Lisbon costs 104 for Ana', 'noon']
"""What a run of either form returns: its output, then what `lookup` and `clock` returned."""
ACTIVITIES = [
    'switch.model_request',
    'switch.event_handler',  # the tool calls' start events
    'switch.event_handler',
    'switch.tool_call.agent.lookup',  # `clock` runs in the workflow
    'switch.event_handler',  # their results
    'switch.event_handler',
    'switch.model_request',
]
"""The activities a run of either form schedules: what the replay of the other form must schedule again."""


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    LOOKUPS.clear()
    yield
    HOLD.held = False


def _replayer(workflow: type) -> Replayer:
    return Replayer(workflows=[workflow], plugins=[PydanticAIPlugin()])


def _committed(form: str) -> WorkflowHistory:
    path = HISTORIES / f'form_switch_{form}.json'
    assert path.exists(), f'{path} is missing: record it with DURABLE_TEMPORAL_RECORD_HISTORIES=1'
    return WorkflowHistory.from_json(f'committed-form-switch-{form}', path.read_text())


@pytest.mark.parametrize(('recorded', 'replayed'), SWITCHES, ids=[f'{a}-to-{b}' for a, b in SWITCHES])
async def test_a_fresh_history_of_one_form_replays_in_the_other(
    plugin_client: Client, task_queue: str, recorded: str, replayed: str
) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[FORMS[recorded]]):
        handle = await plugin_client.start_workflow(
            FORMS[recorded].run,  # type: ignore[attr-defined]
            PROMPT,
            id=f'form-switch-{recorded}-{uuid.uuid4()}',
            task_queue=task_queue,
        )
        assert await handle.result() == RETURNED
    assert await activity_types(handle) == ACTIVITIES
    history = await handle.fetch_history()
    result = await _replayer(FORMS[replayed]).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    if os.environ.get('DURABLE_TEMPORAL_RECORD_HISTORIES'):
        (HISTORIES / f'form_switch_{recorded}.json').write_text(history.to_json())


@pytest.mark.parametrize('replayed', sorted(FORMS))
@pytest.mark.parametrize('recorded', sorted(FORMS))
async def test_a_committed_history_replays_in_either_form(recorded: str, replayed: str) -> None:
    history = _committed(recorded)
    scheduled = [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField('activity_task_scheduled_event_attributes')
    ]
    assert scheduled == ACTIVITIES  # a history of every kind of activity, so the replay has something to match
    result = await _replayer(FORMS[replayed]).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


@pytest.mark.parametrize('mutant', [RenamedSwitchWorkflow, WithoutLookupSwitchWorkflow], ids=['renamed', 'no-lookup'])
@pytest.mark.parametrize('recorded', sorted(FORMS))
async def test_a_capability_agent_with_another_name_or_tool_set_fails_the_replay(recorded: str, mutant: type) -> None:
    """The replay tests can fail: a deploy that renamed the agent, or dropped the tool called, is non-deterministic."""
    with pytest.raises(NondeterminismError):
        await _replayer(mutant).replay_workflow(_committed(recorded))


@pytest.mark.parametrize(('old', 'new'), SWITCHES, ids=[f'{a}-to-{b}' for a, b in SWITCHES])
async def test_a_run_stopped_mid_tool_call_finishes_on_the_other_forms_worker(
    plugin_client: Client, task_queue: str, old: str, new: str
) -> None:
    """The deploy, live: the old form's worker stops while `lookup` runs, and the new form's finishes the run."""
    async with Worker(plugin_client, task_queue=task_queue, workflows=[FORMS[old]]):
        reference = await plugin_client.execute_workflow(
            FORMS[old].run,  # type: ignore[attr-defined]
            PROMPT,
            id=f'form-switch-reference-{uuid.uuid4()}',
            task_queue=task_queue,
        )
    assert LOOKUPS == ['Lisbon']

    HOLD.held = True
    # Its sticky queue would hold the workflow's next task for the stopped worker until this timeout passes.
    old_deploy = Worker(
        plugin_client,
        task_queue=task_queue,
        workflows=[FORMS[old]],
        identity=f'{old}-deploy',
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
    )
    async with old_deploy:
        handle = await plugin_client.start_workflow(
            FORMS[old].run,  # type: ignore[attr-defined]
            PROMPT,
            id=f'form-switch-live-{uuid.uuid4()}',
            task_queue=task_queue,
        )
        for _ in range(600):  # a bound on waiting, not an assertion on speed
            if LOOKUPS == ['Lisbon', 'Lisbon']:
                break
            await asyncio.sleep(0.05)
        assert LOOKUPS == ['Lisbon', 'Lisbon'], 'the held tool call did not start'
    HOLD.held = False

    # A non-determinism fails the run at once (by default its workflow task would be retried until fixed).
    new_deploy = Worker(
        plugin_client,
        task_queue=task_queue,
        workflows=[FORMS[new]],
        identity=f'{new}-deploy',
        workflow_failure_exception_types=[NondeterminismError],
    )
    async with new_deploy:
        assert await handle.result() == reference == RETURNED

    assert LOOKUPS == ['Lisbon', 'Lisbon', 'Lisbon']  # the reference's, the stopped one, its retry on the new deploy
    assert await activity_types(handle) == ACTIVITIES
    history = await handle.fetch_history()
    identities = [
        event.workflow_task_completed_event_attributes.identity
        for event in history.events
        if event.HasField('workflow_task_completed_event_attributes')
    ]
    # Both deploys ran workflow code: the new one replayed the old one's history, then finished the run.
    assert identities[0] == f'{old}-deploy'
    assert identities[-1] == f'{new}-deploy'
