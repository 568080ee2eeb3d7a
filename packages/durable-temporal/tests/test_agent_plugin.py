"""`AgentPlugin`: one agent's activities on a worker without a workflow listing it; registered twice, once."""

from __future__ import annotations

import uuid
from typing import cast

import pytest
from _temporal_support import activity_types, plugin_client_fixture  # noqa: F401
from _wf_agent_plugin import TOOL_CALLS, ListedAgentWorkflow, UnlistedAgentWorkflow, greet, plugged_temporal
from durable_core import DurableNameError, DurableUsageError
from durable_temporal import AgentPlugin, PydanticAIPlugin, TemporalAgent, TemporalDurability
from durable_temporal._agent_plugin import register_agents
from durable_temporal._model_strings import _FIRST_BUILDS  # pyright: ignore[reportPrivateUsage]
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from temporalio.client import Client
from temporalio.worker import Worker, WorkerConfig

EXPECTED_ACTIVITIES = ['plugged.model_request', 'plugged.tool_call.agent.greet', 'plugged.model_request']


async def test_agent_plugin_registers_an_agent_no_workflow_lists(plugin_client: Client, task_queue: str) -> None:
    TOOL_CALLS.clear()
    async with Worker(
        plugin_client, task_queue=task_queue, workflows=[UnlistedAgentWorkflow], plugins=[AgentPlugin(plugged_temporal)]
    ):
        handle = await plugin_client.start_workflow(
            UnlistedAgentWorkflow.run, 'Greet ada', id=f'agent-plugin-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'Greeted ada.'
    assert TOOL_CALLS == ['greet:ada']
    assert await activity_types(handle) == EXPECTED_ACTIVITIES


async def test_an_agent_registered_both_ways_is_registered_once(plugin_client: Client, task_queue: str) -> None:
    TOOL_CALLS.clear()
    plugins = [AgentPlugin(plugged_temporal), AgentPlugin(plugged_temporal)]
    workflows = [ListedAgentWorkflow, UnlistedAgentWorkflow]
    async with Worker(plugin_client, task_queue=task_queue, workflows=workflows, plugins=plugins):
        for workflow in workflows:
            result = await plugin_client.execute_workflow(
                workflow.run, 'Greet ada', id=f'agent-plugin-both-{uuid.uuid4()}', task_queue=task_queue
            )
            assert result == 'Greeted ada.'
    assert TOOL_CALLS == ['greet:ada', 'greet:ada']


def test_registered_both_ways_in_either_order_each_activity_once() -> None:
    expected = plugged_temporal.temporal_activities
    listed_first = AgentPlugin(plugged_temporal).configure_worker(
        PydanticAIPlugin().configure_worker({'workflows': [ListedAgentWorkflow]})
    )
    plugin_first = PydanticAIPlugin().configure_worker(
        AgentPlugin(plugged_temporal).configure_worker({'workflows': [ListedAgentWorkflow]})
    )
    for config in (listed_first, plugin_first):
        assert list(config.get('activities') or []) == expected


def test_another_agent_of_the_same_name_is_refused() -> None:
    twin = TemporalAgent(Agent(TestModel(), name='plugged', tools=[greet]))
    with pytest.raises(DurableNameError, match=r"both have the activity 'plugged\.model_request'.*own name"):
        AgentPlugin(twin).configure_worker(AgentPlugin(plugged_temporal).configure_worker({}))
    with pytest.raises(DurableNameError, match=r"both have the activity 'plugged\.model_request'"):
        AgentPlugin(twin).configure_worker(PydanticAIPlugin().configure_worker({'workflows': [ListedAgentWorkflow]}))


def test_a_plain_agent_is_refused_with_the_fix() -> None:
    with pytest.raises(DurableUsageError, match=r'AgentPlugin\(TemporalAgent\(agent\)\)'):
        AgentPlugin(Agent(TestModel(), name='plain_plugged'))  # type: ignore[arg-type]


def test_registering_a_capability_agent_with_a_model_string_starts_its_first_build() -> None:
    # PydanticAI builds that model in each run's workflow code; the worker imports its SDK from the start, on a thread.
    model_id = f'openai:warm-{uuid.uuid4().hex}'
    agent = Agent(model_id, name=f'warm_{uuid.uuid4().hex[:8]}', capabilities=[TemporalDurability()])
    assert model_id not in _FIRST_BUILDS
    register_agents(cast(WorkerConfig, {}), [agent])
    assert model_id in _FIRST_BUILDS
    _FIRST_BUILDS[model_id].join(30)  # the build fails without an API key; the failure is the workflow's to report
