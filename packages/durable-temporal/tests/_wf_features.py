"""Agents and workflows of test_features.py: events, human in the loop, dynamic toolsets, inline and local tools.

Each agent exists in both durable forms (`_forms.durable_forms`); each workflow lists both and runs the one its first
argument names.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass

from _forms import WRAPPER, Form, durable_forms
from durable_core import StepPolicy
from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import LocalActivity, PydanticAIWorkflow
from pydantic_ai import AgentStreamEvent, DeferredToolRequests, DeferredToolResults, RunContext, Tool
from pydantic_ai.toolsets import DynamicToolset, FunctionToolset
from temporalio import workflow

EVENTS: list[str] = []
TOOL_CALLS: list[str] = []


@dataclass
class User:
    name: str


async def record_events(ctx: RunContext[User], events: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in events:
        EVENTS.append(f'{ctx.deps.name}:{event.event_kind}')


async def shout(text: str) -> str:
    TOOL_CALLS.append(f'shout:{text}')
    return text.upper()


events_agents = durable_forms(
    'events',
    ScriptedModel([ToolCall('shout', {'text': 'hi'}, tool_call_id='c1'), 'Done shouting.'], position='history'),
    tools=[shout],
    deps_type=User,
    event_stream_handler=record_events,
)


@workflow.defn
class EventsWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = list(events_agents.values())

    @workflow.run
    async def run(self, prompt: str, form: Form = WRAPPER) -> str:
        return (await events_agents[form].run(prompt, deps=User('ada'))).output


async def delete_file(path: str) -> str:
    TOOL_CALLS.append(f'delete:{path}')
    return f'deleted {path}'


hitl_agents = durable_forms(
    'hitl',
    ScriptedModel(
        [ToolCall('delete_file', {'path': 'notes.txt'}, tool_call_id='del-1'), 'Deleted notes.txt.'],
        position='history',
    ),
    tools=[Tool(delete_file, requires_approval=True)],
    output_type=[str, DeferredToolRequests],
)


@workflow.defn
class ApprovalWorkflow(PydanticAIWorkflow):
    """Runs the agent; when it asks for approval, waits for the `approve` signal, then resumes it."""

    __pydantic_ai_agents__ = list(hitl_agents.values())

    def __init__(self) -> None:
        self._pending: DeferredToolRequests | None = None
        self._results: DeferredToolResults | None = None

    @workflow.run
    async def run(self, prompt: str, form: Form = WRAPPER) -> str:
        agent = hitl_agents[form]
        result = await agent.run(prompt)
        while isinstance(result.output, DeferredToolRequests):
            self._pending = result.output
            await workflow.wait_condition(lambda: self._results is not None)
            results, self._results, self._pending = self._results, None, None
            result = await agent.run(message_history=result.all_messages(), deferred_tool_results=results)
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


def per_user_tools(ctx: RunContext[User]) -> FunctionToolset[User]:
    TOOL_CALLS.append(f'resolve:{ctx.deps.name}')

    async def lookup(key: str) -> str:
        TOOL_CALLS.append(f'lookup:{key}')
        return f'{key} for {ctx.deps.name}'

    return FunctionToolset([lookup])


dynamic_agents = durable_forms(
    'dynamic',
    ScriptedModel([ToolCall('lookup', {'key': 'x'}, tool_call_id='l1'), 'Found it.'], position='history'),
    toolsets=lambda: [DynamicToolset(per_user_tools, id='per_user')],  # as `@agent.toolset(id='per_user')`
    deps_type=User,
)


@workflow.defn
class DynamicWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = list(dynamic_agents.values())

    @workflow.run
    async def run(self, prompt: str, form: Form = WRAPPER) -> str:
        return (await dynamic_agents[form].run(prompt, deps=User('bob'))).output


async def pure(n: int) -> int:
    return n * 10


async def io(n: int) -> int:
    TOOL_CALLS.append(f'io:{n}')
    return n + 1


inline_agents = durable_forms(
    'inline',
    ScriptedModel([[ToolCall('pure', {'n': 2}), ToolCall('io', {'n': 3})], 'Both done.'], position='history'),
    tools=[pure, io],
    tool_configs={'pure': False},
)


@workflow.defn
class InlineToolWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = list(inline_agents.values())

    @workflow.run
    async def run(self, prompt: str, form: Form = WRAPPER) -> str:
        return (await inline_agents[form].run(prompt)).output


FLAKY_ATTEMPTS: list[str] = []


async def lookup(key: str) -> str:
    TOOL_CALLS.append(f'lookup:{key}')
    if len(FLAKY_ATTEMPTS) < 1:  # the first attempt fails: the local activity's retry policy runs it again
        FLAKY_ATTEMPTS.append(key)
        raise ConnectionError('flaky lookup')
    return key.upper()


async def slow(key: str) -> str:
    TOOL_CALLS.append(f'slow:{key}')
    return key * 2


local_agents = durable_forms(
    'local',
    ScriptedModel(
        [[ToolCall('lookup', {'key': 'a'}), ToolCall('slow', {'key': 'b'})], 'Looked up.'], position='history'
    ),
    tools=[lookup, slow],
    tool_configs={'lookup': LocalActivity()},
    model_activity_config=StepPolicy(retries=0),  # a model request that fails fails the run at once, not in minutes
)


@workflow.defn
class LocalToolWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = list(local_agents.values())

    @workflow.run
    async def run(self, prompt: str, form: Form = WRAPPER) -> str:
        return (await local_agents[form].run(prompt)).output
