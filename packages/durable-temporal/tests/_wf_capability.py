"""Agents and workflows of test_capability.py: one agent with `TemporalDurability`, and its `TemporalAgent` twin."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta

from durable_core import StepPolicy
from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from pydantic_ai import Agent, AgentStreamEvent, RunContext
from pydantic_ai.capabilities import AbstractCapability, SetToolMetadata
from pydantic_ai.exceptions import ModelRequestTimeout
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
from temporalio import workflow

EVENTS: list[str] = []
TOOL_CALLS: list[str] = []


async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in stream:
        EVENTS.append(type(event).__name__)


def script() -> ScriptedModel:
    return ScriptedModel(
        [[ToolCall('lookup', {'key': 'a'}, tool_call_id='l1'), ToolCall('clock', {}, tool_call_id='c1')], 'Found a.'],
        position='history',
    )


def make_agent(name: str, capabilities: list[AbstractCapability[None]]) -> Agent[None, str]:
    made = Agent(script(), name=name, capabilities=capabilities)

    @made.tool_plain  # registered after the agent is created, as `@agent.tool_plain` does
    async def lookup(key: str) -> str:
        TOOL_CALLS.append(key)
        return f'{key} found'

    @made.tool_plain(metadata={'temporal': False})  # in workflow code: no activity
    async def clock() -> str:
        return 'noon'

    return made


FAST = ScriptedModel(['fast answer'], model_name='fast', position='history')

capability_agent = make_agent('capability', [TemporalDurability(event_stream_handler=record, models={'fast': FAST})])
twin = TemporalAgent(
    make_agent('capability_twin', []),
    event_stream_handler=record,
    models={'fast': FAST},
    tool_activity_config={'agent': {'clock': False}},
)
unregistered_agent = Agent(TestModel(), name='capability_unregistered', capabilities=[TemporalDurability()])


@workflow.defn
class CapabilityWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [capability_agent]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await capability_agent.run(prompt)).output


@workflow.defn
class TwinWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [twin]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await twin.run(prompt)).output


@workflow.defn
class ModelChoiceWorkflow(PydanticAIWorkflow):
    """Runs the capability agent with `model=` as named: a key, the registered instance, a string, another instance."""

    __pydantic_ai_agents__ = [capability_agent]

    @workflow.run
    async def run(self, choice: str) -> str:
        model = {'registered instance': FAST, 'unregistered instance': TestModel()}.get(choice, choice)
        return (await capability_agent.run('Hi', model=model)).output


@workflow.defn
class UnregisteredWorkflow:
    """Runs an agent with `TemporalDurability` that no worker registered."""

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await unregistered_agent.run(prompt)).output


TIMEOUTS: list[str] = []


async def times_out(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    TIMEOUTS.append('request')
    raise ModelRequestTimeout('scripted', 1.0)


async def times_out_streamed(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    await times_out(messages, info)
    yield 'never'


timing_out_agent = Agent(
    FunctionModel(times_out, stream_function=times_out_streamed),
    name='capability_timing_out',
    capabilities=[
        TemporalDurability(
            activity_config={'start_to_close_timeout': timedelta(seconds=20)},
            event_stream_handler=record,
            event_stream_handler_activity_config=StepPolicy(retries=1, timeout=7),
        )
    ],
)


@workflow.defn
class TimingOutWorkflow(PydanticAIWorkflow):
    """A model request that times out: 2.68's default `non_retryable_model_errors` fails it at its first attempt."""

    __pydantic_ai_agents__ = [timing_out_agent]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await timing_out_agent.run(prompt)).output


# `SetToolMetadata` keeps `lookup` in the workflow, as its own `metadata={'temporal': False}` would.
set_metadata_agent = make_agent(
    'capability_set_metadata', [SetToolMetadata(tools=['lookup'], temporal=False), TemporalDurability()]
)


@workflow.defn
class SetMetadataWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [set_metadata_agent]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await set_metadata_agent.run(prompt)).output


@workflow.defn
class RunMetadataWorkflow(PydanticAIWorkflow):
    """Gives the capability agent a `SetToolMetadata` for one run: refused, its configs are fixed before."""

    __pydantic_ai_agents__ = [capability_agent]

    @workflow.run
    async def run(self, prompt: str) -> str:
        set_metadata = SetToolMetadata[None](tools=['clock'], temporal={})
        return (await capability_agent.run(prompt, capabilities=[set_metadata])).output
