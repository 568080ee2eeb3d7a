"""The agents and workflow of test_secrets.py: headers in the agent's own model settings, in both durable forms."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from _forms import WRAPPER, Form, durable_forms
from durable_temporal import PydanticAIWorkflow
from pydantic_ai import AgentStreamEvent, RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel
from temporalio import workflow

SECRET = 'Bearer sk-test-secret'
RUN_SECRET = 'Bearer sk-run-secret'

SEEN_SETTINGS: list[dict[str, Any] | None] = []
"""The settings each model request got, in the worker's activity."""
TOOL_SAW_HEADERS: list[object] = []
"""What the tool read of `ctx.model_settings['extra_headers']`, in its activity."""


def _answer(messages: list[ModelMessage]) -> str | None:
    returned = [part for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    return f'The tool said {returned[0].content}.' if returned else None


async def _respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    SEEN_SETTINGS.append(dict(info.model_settings) if info.model_settings is not None else None)
    answer = _answer(messages)
    if answer is None:
        return ModelResponse(parts=[ToolCallPart('lookup', {}, tool_call_id='t1')])
    return ModelResponse(parts=[TextPart(answer)])


async def _stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str | dict[int, DeltaToolCall]]:
    SEEN_SETTINGS.append(dict(info.model_settings) if info.model_settings is not None else None)
    answer = _answer(messages)
    if answer is None:
        yield {0: DeltaToolCall(name='lookup', json_args='{}', tool_call_id='t1')}
    else:
        yield answer


async def lookup(ctx: RunContext[None]) -> str:
    """Look it up."""
    TOOL_SAW_HEADERS.append((ctx.model_settings or {}).get('extra_headers'))
    return 'yes'


async def _handle(ctx: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
    async for _ in events:
        pass


_SETTINGS: Any = {'extra_headers': {'Authorization': SECRET}, 'temperature': 0.5}

# Without an event handler: the model request carries no run context, a tool call does.
plain_agents = durable_forms(
    'secrets', FunctionModel(_respond, stream_function=_stream), tools=[lookup], model_settings=_SETTINGS
)
# With one: the model request and each event delivery carry the run context too.
handler_agents = durable_forms(
    'secrets_handler',
    FunctionModel(_respond, stream_function=_stream),
    tools=[lookup],
    model_settings=_SETTINGS,
    event_stream_handler=_handle,
)

# Headers alone: the request's journaled settings are empty, and each run context's too.
headers_only_agents = durable_forms(
    'secrets_headers_only',
    FunctionModel(_respond, stream_function=_stream),
    tools=[lookup],
    model_settings={'extra_headers': {'Authorization': SECRET}},
)
AGENTS = {'plain': plain_agents, 'handler': handler_agents, 'headers_only': headers_only_agents}


@workflow.defn
class SecretsWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent for agents in AGENTS.values() for agent in agents.values()]

    @workflow.run
    async def run(self, case: str, form: Form = WRAPPER) -> str:
        agents = AGENTS[case.removesuffix('_run_headers')]
        if case.endswith('run_headers'):  # headers only the run has: refused before anything is journaled
            settings: Any = {'extra_headers': {'Authorization': RUN_SECRET}}
            await agents[form].run('hi', model_settings=settings)
            return 'not refused'
        return (await agents[form].run('hi')).output
