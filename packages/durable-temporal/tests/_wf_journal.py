"""The agent and workflow of test_journal_properties.py: one run with the arguments the test generated."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent, AgentStreamEvent, RunContext
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from _journal_cases import CASES, SAW, JournalDeps, ModelSaw


def _first_request_of(workflow_id: str) -> ModelSaw | None:
    """The record of the workflow's first model request, if this activity is one (the handler also gets events)."""
    if not activity.in_activity() or not activity.info().activity_type.endswith('.model_request'):
        return None
    return SAW.setdefault(workflow_id, ModelSaw())


async def _model_respond(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
    seen = _first_request_of(activity.info().workflow_id or '')
    if seen is not None and not seen.messages:
        seen.messages = messages
        seen.settings = info.model_settings
    yield 'done'


async def _handle_events(ctx: RunContext[JournalDeps], events: AsyncIterable[AgentStreamEvent]) -> None:
    seen = _first_request_of(activity.info().workflow_id or '') if activity.in_activity() else None
    if seen is not None and seen.deps is None:
        seen.deps = ctx.deps
        seen.usage_limits = ctx.usage_limits
    async for _ in events:
        pass


journal_agent = Agent(FunctionModel(stream_function=_model_respond), name='journal', deps_type=JournalDeps)

# With an event handler, the model request's run context crosses the journal too (deps, usage limits, prompt).
journal_temporal = TemporalAgent(journal_agent, event_stream_handler=_handle_events)


@workflow.defn
class JournalWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [journal_temporal]

    @workflow.run
    async def run(self) -> str:
        case = CASES[workflow.info().workflow_id]
        result = await journal_temporal.run(
            case.prompt,
            message_history=case.history,
            deps=case.deps,
            model_settings=case.settings,
            usage_limits=case.usage_limits,
        )
        return result.output
