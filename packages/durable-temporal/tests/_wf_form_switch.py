"""The workflow of test_form_switch.py in both forms, under one workflow type, as one deploy and the next would have it.

`WrapperSwitchWorkflow` runs a `TemporalAgent` around the agent `switch`; `CapabilitySwitchWorkflow` runs the same
agent built with `TemporalDurability` (the wrapper's arguments) through its own `run()`. Both register as
`FormSwitchWorkflow`, so a history of either replays with the other. The mutants are the capability form of an agent
with another name, or without the tool the history called: a deploy that changed those must fail the replay.

The agent asks for a tool that runs as an activity (`lookup`) and one that runs in the workflow (`clock`: the
wrapper's `tool_activity_config`, the capability's tool metadata), and has an event stream handler, so the history
holds every kind of activity: model requests, a tool call, event deliveries. The worker's copy of `lookup` records
each attempt in `LOOKUPS`, and waits while `HOLD.held`, so a test can stop the worker in the middle of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from dataclasses import dataclass

from durable_core import StepPolicy
from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from pydantic_ai import Agent, AgentStreamEvent, RunContext
from pydantic_ai.messages import ToolReturnPart
from temporalio import workflow

WORKFLOW_NAME = 'FormSwitchWorkflow'
AGENT_NAME = 'switch'
ACTIVITY_CONFIG = StepPolicy(retries=3, initial_interval=0.1, backoff_coefficient=1.0, timeout=30)


@dataclass
class Traveller:
    name: str


@dataclass
class Hold:
    held: bool = False


HOLD = Hold()
LOOKUPS: list[str] = []


async def notice(ctx: RunContext[Traveller], stream: AsyncIterable[AgentStreamEvent]) -> None:
    async for _ in stream:
        pass


def make_agent(
    name: str = AGENT_NAME, capabilities: list[TemporalDurability[Traveller]] | None = None, *, with_lookup: bool = True
) -> Agent[Traveller, str]:
    """The agent `name`; `with_lookup=False` leaves out the tool the model calls (a mutant)."""
    script = [[ToolCall('lookup', {'city': 'Lisbon'}, tool_call_id='l1'), ToolCall('clock', {}, tool_call_id='c1')]]
    made = Agent(
        ScriptedModel([*script, 'Lisbon costs 104 at noon.'], position='history'),
        name=name,
        deps_type=Traveller,
        capabilities=capabilities or [],
    )

    if with_lookup:

        @made.tool
        async def lookup(ctx: RunContext[Traveller], city: str) -> str:
            LOOKUPS.append(city)
            while HOLD.held:
                await asyncio.sleep(0.05)
            return f'{city} costs {100 + len(city) - 2} for {ctx.deps.name}'

    @made.tool_plain(metadata={'temporal': False})  # the capability form's way to run a tool in the workflow
    async def clock() -> str:
        return 'noon'

    return made


def capability_agent(name: str = AGENT_NAME, *, with_lookup: bool = True) -> Agent[Traveller, str]:
    durability = TemporalDurability[Traveller](event_stream_handler=notice, activity_config=ACTIVITY_CONFIG)
    return make_agent(name, [durability], with_lookup=with_lookup)


wrapper = TemporalAgent(
    make_agent(),
    event_stream_handler=notice,
    activity_config=ACTIVITY_CONFIG,
    tool_activity_config={'agent': {'clock': False}},  # the wrapper's way to run a tool in the workflow
)
capability = capability_agent()
renamed = capability_agent('switch_renamed')
without_lookup = capability_agent(with_lookup=False)


async def _run(agent: TemporalAgent[Traveller, str] | Agent[Traveller, str], prompt: str) -> list[str]:
    """The run's output, then what its tools returned: the deps reached the tool, and the in-workflow tool ran."""
    result = await agent.run(prompt, deps=Traveller('Ana'))
    returned = [
        str(part.content)
        for message in result.new_messages()
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    ]
    return [result.output, *returned]


@workflow.defn(name=WORKFLOW_NAME)
class WrapperSwitchWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [wrapper]

    @workflow.run
    async def run(self, prompt: str) -> list[str]:
        return await _run(wrapper, prompt)


@workflow.defn(name=WORKFLOW_NAME)
class CapabilitySwitchWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [capability]

    @workflow.run
    async def run(self, prompt: str) -> list[str]:
        return await _run(capability, prompt)


@workflow.defn(name=WORKFLOW_NAME)
class RenamedSwitchWorkflow(PydanticAIWorkflow):
    """A mutant: the capability form of the agent under another name, so its activities have other names."""

    __pydantic_ai_agents__ = [renamed]

    @workflow.run
    async def run(self, prompt: str) -> list[str]:
        return await _run(renamed, prompt)


@workflow.defn(name=WORKFLOW_NAME)
class WithoutLookupSwitchWorkflow(PydanticAIWorkflow):
    """A mutant: the capability form of the agent without the tool the history called."""

    __pydantic_ai_agents__ = [without_lookup]

    @workflow.run
    async def run(self, prompt: str) -> list[str]:
        return await _run(without_lookup, prompt)
