"""Agents and workflows of test_features.py: events, human in the loop, dynamic toolsets, inline and local tools."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass

from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import LocalActivity, PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent, AgentStreamEvent, DeferredToolRequests, DeferredToolResults, RunContext
from pydantic_ai.toolsets import FunctionToolset
from temporalio import workflow

EVENTS: list[str] = []
TOOL_CALLS: list[str] = []


@dataclass
class User:
    name: str


async def record_events(ctx: RunContext[User], events: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in events:
        EVENTS.append(f'{ctx.deps.name}:{event.event_kind}')


events_agent = Agent(
    ScriptedModel([ToolCall('shout', {'text': 'hi'}, tool_call_id='c1'), 'Done shouting.'], position='history'),
    name='events',
    deps_type=User,
)


@events_agent.tool_plain
async def shout(text: str) -> str:
    TOOL_CALLS.append(f'shout:{text}')
    return text.upper()


events_temporal = TemporalAgent(events_agent, event_stream_handler=record_events)


@workflow.defn
class EventsWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [events_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await events_temporal.run(prompt, deps=User('ada'))).output


hitl_agent = Agent(
    ScriptedModel(
        [ToolCall('delete_file', {'path': 'notes.txt'}, tool_call_id='del-1'), 'Deleted notes.txt.'],
        position='history',
    ),
    name='hitl',
    output_type=[str, DeferredToolRequests],
)


@hitl_agent.tool_plain(requires_approval=True)
async def delete_file(path: str) -> str:
    TOOL_CALLS.append(f'delete:{path}')
    return f'deleted {path}'


hitl_temporal = TemporalAgent(hitl_agent)


@workflow.defn
class ApprovalWorkflow(PydanticAIWorkflow):
    """Runs the agent; when it asks for approval, waits for the `approve` signal, then resumes it."""

    __pydantic_ai_agents__ = [hitl_temporal]

    def __init__(self) -> None:
        self._pending: DeferredToolRequests | None = None
        self._results: DeferredToolResults | None = None

    @workflow.run
    async def run(self, prompt: str) -> str:
        result = await hitl_temporal.run(prompt)
        while isinstance(result.output, DeferredToolRequests):
            self._pending = result.output
            await workflow.wait_condition(lambda: self._results is not None)
            results, self._results, self._pending = self._results, None, None
            result = await hitl_temporal.run(message_history=result.all_messages(), deferred_tool_results=results)
        return result.output

    @workflow.update
    async def pending_approvals(self) -> list[str]:
        """The tool-call ids awaiting approval, once the agent asks."""
        await workflow.wait_condition(lambda: self._pending is not None)
        assert self._pending is not None
        return [call.tool_call_id for call in self._pending.approvals]

    @workflow.signal
    def approve(self, results: DeferredToolResults) -> None:
        """Hand the decisions to the waiting run."""
        self._results = results


dynamic_agent = Agent(
    ScriptedModel([ToolCall('lookup', {'key': 'x'}, tool_call_id='l1'), 'Found it.'], position='history'),
    name='dynamic',
    deps_type=User,
)


@dynamic_agent.toolset(id='per_user')
def per_user_tools(ctx: RunContext[User]) -> FunctionToolset[User]:
    TOOL_CALLS.append(f'resolve:{ctx.deps.name}')

    async def lookup(key: str) -> str:
        TOOL_CALLS.append(f'lookup:{key}')
        return f'{key} for {ctx.deps.name}'

    return FunctionToolset([lookup])


dynamic_temporal = TemporalAgent(dynamic_agent)


@workflow.defn
class DynamicWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [dynamic_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await dynamic_temporal.run(prompt, deps=User('bob'))).output


inline_agent = Agent(
    ScriptedModel([[ToolCall('pure', {'n': 2}), ToolCall('io', {'n': 3})], 'Both done.'], position='history'),
    name='inline',
)


@inline_agent.tool_plain
async def pure(n: int) -> int:
    return n * 10


@inline_agent.tool_plain
async def io(n: int) -> int:
    TOOL_CALLS.append(f'io:{n}')
    return n + 1


inline_temporal = TemporalAgent(inline_agent, tool_activity_config={'agent': {'pure': False}})


@workflow.defn
class InlineToolWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [inline_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await inline_temporal.run(prompt)).output


local_agent = Agent(
    ScriptedModel(
        [[ToolCall('lookup', {'key': 'a'}), ToolCall('slow', {'key': 'b'})], 'Looked up.'], position='history'
    ),
    name='local',
)
FLAKY_ATTEMPTS: list[str] = []


@local_agent.tool_plain
async def lookup(key: str) -> str:
    TOOL_CALLS.append(f'lookup:{key}')
    if len(FLAKY_ATTEMPTS) < 1:  # the first attempt fails: the local activity's retry policy runs it again
        FLAKY_ATTEMPTS.append(key)
        raise ConnectionError('flaky lookup')
    return key.upper()


@local_agent.tool_plain
async def slow(key: str) -> str:
    TOOL_CALLS.append(f'slow:{key}')
    return key * 2


local_temporal = TemporalAgent(local_agent, tool_activity_config={'agent': {'lookup': LocalActivity()}})


@workflow.defn
class LocalToolWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [local_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await local_temporal.run(prompt)).output
