"""The capability form, `Agent(..., capabilities=[TemporalDurability(...)])`: it runs on a `TemporalAgent`'s activities.

A plain `agent.run()` in a workflow schedules the same activities, under the same names, as the wrapper's run of a
twin agent; outside a workflow the agent runs as it would without the capability; misuse is refused naming the fix.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from _temporal_support import activity_inputs, activity_types, history_events, plugin_client_fixture  # noqa: F401
from _wf_capability import (
    EVENTS,
    TIMEOUTS,
    TOOL_CALLS,
    CapabilityWorkflow,
    ModelChoiceWorkflow,
    RunMetadataWorkflow,
    SetMetadataWorkflow,
    TimingOutWorkflow,
    TwinWorkflow,
    UnregisteredWorkflow,
    capability_agent,
    make_agent,
    timing_out_agent,
)
from durable_core import DurableUsageError
from durable_core.testing import ScriptedModel
from durable_temporal import AgentPlugin, LocalActivity, PydanticAIPlugin, TemporalAgent, TemporalDurability
from pydantic_ai import Agent
from pydantic_ai.capabilities import SetToolMetadata
from pydantic_ai.models.test import TestModel
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.worker import Replayer, Worker


@pytest.fixture(autouse=True)
def _reset() -> None:
    EVENTS.clear()
    TOOL_CALLS.clear()


async def _run(client: Client, task_queue: str, workflow: Any, argument: str) -> tuple[str, WorkflowHandle[Any, Any]]:
    handle = await client.start_workflow(workflow.run, argument, id=f'capability-{uuid.uuid4()}', task_queue=task_queue)
    return await handle.result(), handle


async def test_a_run_in_a_workflow_schedules_the_wrappers_activities_under_the_same_names(
    plugin_client: Client, task_queue: str
) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[CapabilityWorkflow, TwinWorkflow]):
        output, handle = await _run(plugin_client, task_queue, CapabilityWorkflow, 'Find a')
        capability_events, capability_calls = list(EVENTS), list(TOOL_CALLS)
        EVENTS.clear()
        TOOL_CALLS.clear()
        twin_output, twin_handle = await _run(plugin_client, task_queue, TwinWorkflow, 'Find a')

    assert output == twin_output == 'Found a.'
    names = await activity_types(handle)
    assert names == [
        'capability.model_request',
        'capability.event_handler',  # the tool calls' start events, each from an activity
        'capability.event_handler',
        'capability.tool_call.agent.lookup',  # `clock` has metadata={'temporal': False}: it runs in the workflow
        'capability.event_handler',  # their results
        'capability.event_handler',
        'capability.model_request',  # the final response's events live inside its activity
    ]
    assert [name.replace('capability_twin.', 'capability.') for name in await activity_types(twin_handle)] == names
    assert capability_events == EVENTS
    assert 'FunctionToolResultEvent' in EVENTS
    assert capability_calls == TOOL_CALLS == ['a']


async def test_a_timed_out_request_fails_at_its_first_attempt(plugin_client: Client, task_queue: str) -> None:
    TIMEOUTS.clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[TimingOutWorkflow]):
        with pytest.raises(WorkflowFailureError):
            await _run(plugin_client, task_queue, TimingOutWorkflow, 'Hi')
    assert TIMEOUTS == ['request']  # 2.68's default non_retryable_model_errors: no second attempt of 10


def test_event_deliveries_take_the_event_stream_handler_activity_config() -> None:
    durable = TemporalDurability.from_agent(timing_out_agent)
    assert durable is not None
    agent = durable.temporal_agent
    config: Any = agent.unit_config(agent.unit('event_handler'))
    assert config['start_to_close_timeout'] == timedelta(seconds=7)
    assert config['retry_policy'].maximum_attempts == 2
    model_config: Any = agent.unit_config(agent.unit('model_request'))
    assert model_config['start_to_close_timeout'] == timedelta(seconds=20)


async def test_a_capability_history_replays(plugin_client: Client, task_queue: str) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[CapabilityWorkflow]):
        _, handle = await _run(plugin_client, task_queue, CapabilityWorkflow, 'Find a')
    history = await handle.fetch_history()
    replayer = Replayer(workflows=[CapabilityWorkflow], plugins=[PydanticAIPlugin()])
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None


async def test_outside_a_workflow_the_agent_runs_as_without_the_capability() -> None:
    result = await capability_agent.run('Find a')
    plain = await make_agent('plain', []).run('Find a')
    assert result.output == plain.output == 'Found a.'
    assert TOOL_CALLS == ['a', 'a']
    assert 'FunctionToolResultEvent' in EVENTS  # the handler gets the events as they come


@pytest.mark.parametrize(
    ('choice', 'output', 'model_key'),
    [
        ('fast', 'fast answer', 'fast'),
        ('registered instance', 'fast answer', 'fast'),
        ('test', '{"lookup":"a found","clock":"noon"}', 'test'),  # TestModel, inferred by the worker too
    ],
)
async def test_run_model_selects_a_registered_key_instance_or_a_model_string(
    plugin_client: Client, task_queue: str, choice: str, output: str, model_key: str
) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[ModelChoiceWorkflow]):
        result, handle = await _run(plugin_client, task_queue, ModelChoiceWorkflow, choice)
    assert result == output
    (name, inputs), *_ = await activity_inputs(handle)
    assert name == 'capability.model_request'
    assert model_key in inputs  # the worker rebuilt the run's model from this key


async def test_run_model_refuses_an_unregistered_instance(plugin_client: Client, task_queue: str) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[ModelChoiceWorkflow]):
        with pytest.raises(WorkflowFailureError) as failure:
            await _run(plugin_client, task_queue, ModelChoiceWorkflow, 'unregistered instance')
    assert 'was not registered' in str(failure.value.cause)


async def test_a_run_on_a_worker_that_did_not_register_the_agent_fails_the_workflow_task_naming_the_fix(
    plugin_client: Client, task_queue: str
) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[UnregisteredWorkflow]):
        handle = await plugin_client.start_workflow(
            UnregisteredWorkflow.run, 'Hi', id=f'capability-unregistered-{uuid.uuid4()}', task_queue=task_queue
        )
        for _ in range(100):
            failures = [
                event.workflow_task_failed_event_attributes.failure.message
                for event in await history_events(handle)
                if event.HasField('workflow_task_failed_event_attributes')
            ]
            if failures:
                break
            await asyncio.sleep(0.1)
        await handle.terminate()
    assert failures
    assert "'capability_unregistered'" in failures[0]
    assert '__pydantic_ai_agents__ = [agent]' in failures[0]
    assert 'AgentPlugin(agent)' in failures[0]
    assert await activity_types(handle) == []


async def test_agent_plugin_registers_a_capability_agent_with_the_tools_registered_after_it() -> None:
    durability = TemporalDurability[None]()
    agent = Agent(TestModel(), name='capability_plugged', capabilities=[durability])
    plugin = AgentPlugin(agent)

    @agent.tool_plain(metadata={'temporal': LocalActivity()})
    async def late() -> str:
        return 'late'

    config = plugin.configure_worker({})
    assert 'capability_plugged.tool_call.agent.late' in durability.temporal_agent.durable_unit_names()
    assert list(config.get('activities') or []) == durability.temporal_agent.temporal_activities


def test_misuse_is_refused_when_the_agent_is_created() -> None:
    with pytest.raises(DurableUsageError, match='needs a name'):
        Agent(TestModel(), capabilities=[TemporalDurability()])
    with pytest.raises(DurableUsageError, match='one durability capability'):
        Agent(TestModel(), name='twice', capabilities=[TemporalDurability(), TemporalDurability()])
    with pytest.raises(DurableUsageError, match='already has TemporalDurability'):
        TemporalAgent(Agent(TestModel(), name='wrapped_capability', capabilities=[TemporalDurability()]))


def test_an_argument_of_268_that_is_not_provided_is_unknown() -> None:
    with pytest.raises(TypeError, match='event_stream_topic'):
        TemporalDurability(**{'event_stream_topic': None})


def test_a_tool_asking_for_a_child_workflow_is_refused_naming_the_fix() -> None:
    agent = Agent(TestModel(), name='child_workflow_tool', capabilities=[TemporalDurability()])

    @agent.tool_plain(metadata={'temporal': {'child_workflow': {}}})
    async def child() -> str:
        return 'child'

    with pytest.raises(DurableUsageError, match='child workflow'):
        AgentPlugin(agent).configure_worker({})


async def test_set_tool_metadata_gives_a_tool_its_activity_config_as_in_2_68(
    plugin_client: Client, task_queue: str
) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[SetMetadataWorkflow]):
        output, handle = await _run(plugin_client, task_queue, SetMetadataWorkflow, 'Find a')

    assert output == 'Found a.'
    # `SetToolMetadata(tools=['lookup'], temporal=False)`: lookup ran in the workflow, as `clock` (its own metadata).
    assert await activity_types(handle) == ['capability_set_metadata.model_request'] * 2


async def test_a_set_tool_metadata_given_for_one_run_is_refused_before_its_first_activity(
    plugin_client: Client, task_queue: str
) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[RunMetadataWorkflow]):
        handle = await plugin_client.start_workflow(
            RunMetadataWorkflow.run, 'Find a', id=f'capability-{uuid.uuid4()}', task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
    assert "sets 'temporal' was given for one run" in str(failure.value.cause)
    assert await activity_types(handle) == []


def test_a_set_tool_metadata_selector_function_setting_temporal_is_refused_when_the_worker_registers_it() -> None:
    selector = SetToolMetadata[None](tools=lambda ctx, tool_def: True, temporal=False)
    agent = Agent(TestModel(), name='capability_selector', capabilities=[selector, TemporalDurability()])
    with pytest.raises(DurableUsageError, match=r"selector function.*SetToolMetadata\(tools=\['my_tool'\], temporal="):
        AgentPlugin(agent).configure_worker({})


def test_a_deps_type_other_than_the_agents_is_refused() -> None:
    agent = Agent(ScriptedModel(['x']), name='other_deps', capabilities=[TemporalDurability(deps_type=int)])
    with pytest.raises(DurableUsageError, match=r'deps_type=int\) differs'):
        AgentPlugin(agent).configure_worker({})
