"""A deploy can switch a running system between `TemporalAgent` and the capability form (`TemporalDurability`).

A history recorded by one form's workflow replays, without a non-determinism error, with the same workflow in the
other form: a worker of the new deploy can resume the old deploy's runs. The committed histories in `histories/`
(`form_switch_*.json`, recorded by an earlier version of the package) must replay in both forms too, so a release that
breaks the switch fails here; re-record them with ``DURABLE_TEMPORAL_RECORD_HISTORIES=1`` when a change is meant to.
A capability agent under another name, or without the tool the history called, must fail the replay.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from _temporal_support import activity_types, plugin_client_fixture  # noqa: F401
from _wf_form_switch import (
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
OUTPUT = 'Lisbon costs 104 at noon.'
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
        assert await handle.result() == OUTPUT
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
