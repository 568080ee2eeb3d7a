"""Run arguments come back from Prefect's journal exactly as the caller passed them (issue 12), on the real server.

A run's arguments are the one parameter of the agent's flow run, stored by the Prefect server. Read back through the
Prefect client and decoded, they must equal what the caller passed, `None`s included; and the run itself must see
them unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from durable_core._settings_codec import decode_model_settings
from durable_core.testing import DurableCallCounter
from durable_prefect import PrefectAgent
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from prefect.context import TaskRunContext
from pydantic_ai import Agent, RunContext, UsageLimits, UserError
from pydantic_ai.messages import BinaryContent, ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

REQUESTS = 51  # one more than `UsageLimits`' default request limit of 50


async def flow_runs_of(agent: PrefectAgent[Any, Any]) -> list[Any]:
    """The flow runs of `agent`'s flow, as the server stores them."""
    async with get_client() as client:
        return await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[agent.flow.name])))


async def stored_arguments(agent: PrefectAgent[Any, Any], flow_run_id: UUID) -> dict[str, Any]:
    """The run arguments of a flow run as the server stores them, decoded as the agent's flow decodes them."""
    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
    inputs = agent.decode_inputs(flow_run.parameters['inputs'])
    arguments = dict(inputs)
    arguments['deps'] = agent.decode_deps(inputs.deps) if inputs.deps is not None else None
    if inputs.model_settings is not None:
        arguments['model_settings'] = decode_model_settings(json.dumps(inputs.model_settings))
    return arguments


async def test_a_request_limit_of_none_stays_none(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')

    def tick_until_done(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        counter.record('model')
        responses = sum(isinstance(message, ModelResponse) for message in messages)
        if responses < REQUESTS - 1:
            return ModelResponse(parts=[ToolCallPart('tick', {}, tool_call_id=f'tick-{responses}')])
        return ModelResponse(parts=[TextPart(f'ticked {responses} times')])

    agent = Agent(FunctionModel(tick_until_done), name='unlimited')
    flow_run_ids: set[UUID] = set()

    @agent.tool
    def tick(ctx: RunContext[None]) -> str:
        context = TaskRunContext.get()
        assert context is not None
        assert context.task_run.flow_run_id is not None
        flow_run_ids.add(context.task_run.flow_run_id)
        return 'tock'

    prefect_agent = PrefectAgent(agent)
    limits = UsageLimits(request_limit=None)
    result = await prefect_agent.run('tick', usage_limits=limits)

    assert result.output == f'ticked {REQUESTS - 1} times'
    assert result.usage.requests == REQUESTS
    assert counter.count('model') == REQUESTS
    [flow_run_id] = flow_run_ids
    stored = await stored_arguments(prefect_agent, flow_run_id)
    assert stored['usage_limits'] == limits
    assert stored['user_prompt'] == 'tick'


@dataclass
class Base:
    x: int


@dataclass
class Sub(Base):
    label: str


async def test_deps_of_a_subclass_are_kept_or_refused_before_the_flow_starts() -> None:
    seen: list[Any] = []
    agent = Agent(FunctionModel(_call_show_then_answer), name='subclassed_deps', deps_type=Base)

    @agent.tool
    def show(ctx: RunContext[Base]) -> str:
        seen.append(ctx.deps)
        return 'shown'

    prefect_agent = PrefectAgent(agent)
    try:
        await prefect_agent.run('show', deps=Sub(1, 'custom'))
    except UserError as error:
        message = str(error)
        assert 'deps_type=Sub' in message, message  # names the fix
        assert seen == []
        assert await flow_runs_of(prefect_agent) == []  # refused before the flow started
    else:
        assert seen == [Sub(1, 'custom')]
        assert type(seen[0]) is Sub


def _call_show_then_answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    if any(isinstance(part, ToolReturnPart) for part in messages[-1].parts):
        return ModelResponse(parts=[TextPart('done')])
    return ModelResponse(parts=[ToolCallPart('show', {}, tool_call_id='call-show')])


async def test_a_binary_content_image_in_the_user_prompt_stays_binary_content() -> None:
    seen: list[Any] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(messages[-1].parts[-1].content)  # type: ignore[union-attr]
        return ModelResponse(parts=[TextPart('a pixel')])

    prefect_agent = PrefectAgent(Agent(FunctionModel(answer), name='prompt_image'))
    prompt = ['What is this?', BinaryContent(b'\x89PNG', media_type='image/png')]
    result = await prefect_agent.run(prompt)
    assert result.output == 'a pixel'
    assert seen == [prompt]
    assert type(seen[0][1]) is BinaryContent
