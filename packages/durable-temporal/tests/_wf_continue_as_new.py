"""The workflow of test_continue_as_new.py: a long agent run that continues as new through 2.68's hook."""

from __future__ import annotations

from _wf_size import INSTRUCTIONS, long_model, page
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability, _agent_run, _history
from pydantic_ai import Agent, RunContext, UsageLimitExceeded
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RunUsage, UsageLimits
from temporalio import workflow

PAGES_READ: list[int] = []
"""Each tool call, counted at its source (activities run outside the sandbox, in the test's process)."""
REQUESTS: list[int] = []
"""Each model request, counted at its source: the number of messages it was given."""


async def continue_as_new(ctx: RunContext[None]) -> None:
    workflow.continue_as_new(args=[None, ctx.messages, ctx.usage])


def counted_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    REQUESTS.append(len(messages))
    return long_model(messages, info)


async def read_page(step: int) -> str:
    """Read one page."""
    PAGES_READ.append(step)
    return page(step)


def _agent(name: str, *capabilities: TemporalDurability[None]) -> Agent[None, str]:
    model = FunctionModel(counted_model, model_name='pages')
    return Agent(model, name=name, instructions=INSTRUCTIONS, tools=[read_page], capabilities=list(capabilities))


wrapper = TemporalAgent(_agent('continued'), continue_as_new=continue_as_new)
capability_agent = _agent('continued_capability', TemporalDurability(continue_as_new=continue_as_new))


@workflow.defn
class ContinuedWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [wrapper]

    @workflow.run
    async def run(
        self, prompt: str | None, history: list[ModelMessage] | None = None, usage: RunUsage | None = None
    ) -> tuple[list[ModelMessage], int]:
        limits = UsageLimits(request_limit=None)
        result = await wrapper.run(prompt, message_history=history, usage=usage, usage_limits=limits)
        return result.all_messages(), result.usage.requests


@workflow.defn
class ContinuedCapabilityWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [capability_agent]

    @workflow.run
    async def run(
        self, prompt: str | None, history: list[ModelMessage] | None = None, usage: RunUsage | None = None
    ) -> tuple[list[ModelMessage], int]:
        limits = UsageLimits(request_limit=None)
        result = await capability_agent.run(prompt, message_history=history, usage=usage, usage_limits=limits)
        return result.all_messages(), result.usage.requests


auto = TemporalAgent(_agent('continued_auto'), continue_as_new='auto')
inline = TemporalAgent(_agent('continued_inline'))
"""The same agent without continuing as new: the uninterrupted run to compare with."""

RunSummary = tuple[list[ModelMessage], int, int, str, str]
"""A run's all messages, how many of them are new, its requests, its output and its run id."""


async def _summary(agent: TemporalAgent[None, str], prompt: str, history: list[ModelMessage] | None) -> RunSummary:
    result = await agent.run(prompt, message_history=history, usage_limits=UsageLimits(request_limit=None))
    return result.all_messages(), len(result.new_messages()), result.usage.requests, result.output, result.run_id


@workflow.defn
class AutoContinuedWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [auto]

    @workflow.run
    async def run(self, prompt: str, history: list[ModelMessage] | None = None) -> RunSummary:
        return await _summary(auto, prompt, history)


@workflow.defn
class InlineWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [inline]

    @workflow.run
    async def run(self, prompt: str, history: list[ModelMessage] | None = None) -> RunSummary:
        return await _summary(inline, prompt, history)


@workflow.defn
class LimitedWorkflow(PydanticAIWorkflow):
    """Runs an agent past its request limit and returns what it caught: the same with and without 'auto'."""

    __pydantic_ai_agents__ = [auto, inline]

    @workflow.run
    async def run(self, use_auto: bool) -> str:
        agent = auto if use_auto else inline
        try:
            await agent.run('40 steps please', usage_limits=UsageLimits(request_limit=3))
        except UsageLimitExceeded as error:
            return f'{type(error).__name__}: {error}'
        return 'not limited'


BIG_PAGE_BYTES = 300_000
BIG_PAGES = 12
"""A conversation of 3.6 MB: over the server's 2 MB payload limit, so neither a continued run's input nor the child's
result can carry it whole."""
BIG_SEEN: list[int] = []
"""The page bytes each model request was given (this process)."""


def big_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    returns = [part for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    BIG_SEEN.append(sum(len(str(part.content)) for part in returns))
    # As a worker that served none of the run's earlier requests: every earlier message comes from a history.
    _history._KNOWN.clear()  # pyright: ignore[reportPrivateUsage]
    _agent_run._LOADED.clear()  # pyright: ignore[reportPrivateUsage]
    if len(returns) < BIG_PAGES:
        return ModelResponse(
            parts=[ToolCallPart('read_big_page', {'step': len(returns)}, tool_call_id=f'big-{len(returns)}')]
        )
    return ModelResponse(parts=[TextPart(f'Read {len(returns)} big pages.')])


async def read_big_page(step: int) -> str:
    """Read one big page."""
    return str(step % 10) * BIG_PAGE_BYTES


big_auto = TemporalAgent(
    Agent(FunctionModel(big_model, model_name='big'), name='continued_big', tools=[read_big_page]),
    continue_as_new='auto',
)

BigSummary = tuple[int, int, int, int, str]
"""A run's message count, page bytes in its messages, new messages, requests and output."""


@workflow.defn
class BigAutoWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [big_auto]

    @workflow.run
    async def run(self, prompt: str) -> BigSummary:
        result = await big_auto.run(prompt, usage_limits=UsageLimits(request_limit=None))
        messages = result.all_messages()
        pages = sum(
            len(str(part.content)) for message in messages for part in message.parts if isinstance(part, ToolReturnPart)
        )
        return len(messages), pages, len(result.new_messages()), result.usage.requests, result.output
