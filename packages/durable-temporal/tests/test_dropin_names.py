"""PydanticAI 2.68's other `durable_exec.temporal` names: `TemporalRunContext` is what activities get; the names of
parts we do not have (namer, toolset wrapper, workflow streams) refuse early, naming our way (`TemporalDurability` is
ours: test_capability.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from _temporal_support import plugin_client_fixture  # noqa: F401
from _wf_dropin_names import RunContextTypeWorkflow
from durable_core import DurableRunContext, DurableUsageError
from durable_temporal import (
    AgentEventStream,
    DurableAgentRunEvents,
    TemporalAgent,
    TemporalOperationNamer,
    TemporalRunContext,
    TemporalWrapperToolset,
    WorkflowStreamTopic,
    stream_agent_events,
    workflow_stream_event_handler,
)
from pydantic_ai import Agent, UserError
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset
from temporalio.client import Client
from temporalio.worker import Worker


class WithTenant(TemporalRunContext[Any]):
    """A 2.68-style subclass that would carry one more field."""

    @classmethod
    def serialize_run_context(cls, ctx: Any) -> dict[str, Any]:
        return {'tenant': 'acme'}


def test_temporal_run_context_is_the_context_activities_rebuild() -> None:
    assert TemporalRunContext is DurableRunContext


async def test_a_tool_in_an_activity_gets_a_temporal_run_context(plugin_client: Client, task_queue: str) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[RunContextTypeWorkflow]):
        result = await plugin_client.execute_workflow(
            RunContextTypeWorkflow.run, 'acme', id=f'dropin-ctx-{uuid.uuid4()}', task_queue=task_queue
        )
    assert result == 'True acme'


def test_a_run_context_subclass_is_refused_naming_the_fix() -> None:
    agent = Agent(TestModel(), name='dropin_ctx_subclass')
    with pytest.raises(DurableUsageError, match=r"run_context_type='WithTenant'.*Carry the extra data in the deps"):
        TemporalAgent(agent, run_context_type=WithTenant)
    TemporalAgent(agent, run_context_type=TemporalRunContext)  # the refusal claimed no name


@pytest.mark.parametrize(
    ('argument', 'fix'),
    [
        ('provider_factory', r"models=\{'fast': OpenAIChatModel"),
        ('temporalize_toolset_func', 'toolset_activity_config'),
    ],
)
def test_2_68_arguments_we_do_not_take_are_refused_unless_none(argument: str, fix: str) -> None:
    agent = Agent(TestModel(), name=f'dropin_{argument}')
    with pytest.raises(DurableUsageError, match=rf'TemporalAgent\({argument}=\.\.\.\) is not supported: .*{fix}'):
        TemporalAgent(agent, **{argument: lambda *args: None})
    TemporalAgent(agent, **{argument: None})  # 2.68's default; the refusal claimed no name


@pytest.mark.parametrize(
    ('build', 'fix'),
    [
        (lambda: TemporalOperationNamer('support'), r'durable_unit_names\(\)'),
        (lambda: TemporalWrapperToolset(FunctionToolset()), r'toolset_activity_config=\{id: \.\.\.\}'),
        (lambda: AgentEventStream(), 'event_stream_handler='),
        (lambda: WorkflowStreamTopic('events'), 'event_stream_handler='),
        (lambda: DurableAgentRunEvents(None, None), 'event_stream_handler='),
        (lambda: workflow_stream_event_handler('events'), 'event_stream_handler='),
        (lambda: stream_agent_events(None, None, 'events'), 'event_stream_handler='),
    ],
    ids=[
        'TemporalOperationNamer',
        'TemporalWrapperToolset',
        'AgentEventStream',
        'WorkflowStreamTopic',
        'DurableAgentRunEvents',
        'workflow_stream_event_handler',
        'stream_agent_events',
    ],
)
def test_names_of_parts_we_do_not_have_refuse_when_used(build: Any, fix: str) -> None:
    with pytest.raises(UserError, match=fix):
        build()
