"""The workflow of test_continue_as_new.py: a long agent run that continues as new through 2.68's hook."""

from __future__ import annotations

from _wf_size import INSTRUCTIONS, long_model, page
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse
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
