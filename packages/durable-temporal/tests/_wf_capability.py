"""Agents and workflows of test_capability.py: one agent with `TemporalDurability`, and its `TemporalAgent` twin."""

from __future__ import annotations

from collections.abc import AsyncIterable

from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from pydantic_ai import Agent, AgentStreamEvent, RunContext
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


def make_agent(name: str, capabilities: list[TemporalDurability[None]]) -> Agent[None, str]:
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
