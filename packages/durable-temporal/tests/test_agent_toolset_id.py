"""`'<agent>'`, PydanticAI's id for the agent's own toolset keys tool_activity_config and toolset_activity_config."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from _temporal_support import history_events, plugin_client_fixture  # noqa: F401
from _wf_agent_toolset_id import PaiToolsetIdWorkflow, double, inline_temporal, timeout_temporal
from durable_core import DurableNameError, DurableUsageError
from durable_temporal import TemporalAgent
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from temporalio.client import Client
from temporalio.worker import Worker


def test_configs_keyed_by_pai_id_are_the_agent_toolsets() -> None:
    # The tool runs in the workflow: it has no activity.
    assert inline_temporal.durable_unit_names() == ['pai_id_inline.model_cancel', 'pai_id_inline.model_request']
    configs = timeout_temporal.unit_configs.tool_by_toolset
    assert list(configs) == ['agent']
    assert configs['agent']['start_to_close_timeout'] == timedelta(seconds=7)


async def test_configs_keyed_by_pai_id_take_effect_in_a_workflow(plugin_client: Client, task_queue: str) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[PaiToolsetIdWorkflow]):
        handle = await plugin_client.start_workflow(
            PaiToolsetIdWorkflow.run, 'Double 21', id=f'pai-id-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == ['It is 42.', 'It is 42.']
    scheduled = [
        event.activity_task_scheduled_event_attributes
        for event in await history_events(handle)
        if event.HasField('activity_task_scheduled_event_attributes')
    ]
    assert [(item.activity_type.name, item.start_to_close_timeout.ToTimedelta()) for item in scheduled] == [
        ('pai_id_inline.model_request', timedelta(minutes=5)),
        ('pai_id_inline.model_request', timedelta(minutes=5)),
        ('pai_id_timeout.model_request', timedelta(minutes=5)),
        ('pai_id_timeout.tool_call.agent.double', timedelta(seconds=7)),
        ('pai_id_timeout.model_request', timedelta(minutes=5)),
    ]


def test_both_names_of_the_agent_toolset_are_refused_with_the_fix() -> None:
    agent = Agent(TestModel(), name='pai_id_both', tools=[double])
    with pytest.raises(DurableUsageError, match=r"tool_activity_config has both '<agent>' and 'agent'.*under 'agent'"):
        TemporalAgent(agent, tool_activity_config={'<agent>': {'double': False}, 'agent': {'double': False}})
    with pytest.raises(DurableUsageError, match=r"toolset_activity_config has both '<agent>' and 'agent'"):
        TemporalAgent(agent, toolset_activity_config={'<agent>': {}, 'agent': {}})


def test_an_unknown_tool_under_pai_id_is_still_refused() -> None:
    agent = Agent(TestModel(), name='pai_id_typo', tools=[double])
    with pytest.raises(DurableNameError, match=r"tool 'typo' of the toolset 'agent'"):
        TemporalAgent(agent, tool_activity_config={'<agent>': {'typo': False}})
