"""Names of PydanticAI 2.68's `durable_exec.prefect` that 2.68 code imports (issue 14, item 17).

`PrefectModel`, `PrefectFunctionToolset` and `PrefectMCPToolset`, built with 2.68's arguments, make a plain `Agent`
run in a user's flow durable: a retried flow loads their tasks' results. Inside a `PrefectAgent` run they step aside
for its own tasks. `PrefectOperationNamer` is refused when built, naming the fix (`PrefectDurability`: test_capability).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from durable_core import DurableUsageError, StepPolicy
from durable_core.testing import DurableCallCounter, ScriptedModel, ToolCall
from durable_core.testing.mcp_calculator import MCP_CALCULATOR_PATH
from durable_prefect import (
    PrefectAgent,
    PrefectFunctionToolset,
    PrefectMCPToolset,
    PrefectModel,
    PrefectOperationNamer,
    TaskConfig,
)
from fastmcp.client import Client
from fastmcp.client.transports import PythonStdioTransport
from prefect import flow
from prefect.context import TaskRunContext, get_run_context
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import ModelResponse, PartStartEvent, TextPart
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.toolsets import FunctionToolset
from support import CountingModel, read_subflow_runs, read_task_runs, retried_once


def _weather_toolset(counter: DurableCallCounter) -> FunctionToolset[None]:
    toolset = FunctionToolset[None](id='weather')

    @toolset.tool_plain
    def get_weather(city: str) -> str:
        counter.record(f'get_weather:{city}')
        return f'sunny in {city}'

    @toolset.tool_plain
    def local_time(city: str) -> str:
        counter.record(f'local_time:{city}')
        return f'noon in {city}'

    return toolset


def _steps() -> list[Any]:
    return [[ToolCall('get_weather', {'city': 'Paris'}), ToolCall('local_time', {'city': 'Paris'})], 'Sunny at noon.']


async def _run_retried_once(agent: Agent[None, str]) -> tuple[str, str]:
    """Run `agent` in a flow that fails once after the run (`retried_once`); the retry's output, and the flow run."""

    async def body() -> str:
        return (await agent.run('Weather and time in Paris?')).output

    attempts, flow_run_id = await retried_once(body)
    return attempts[-1], flow_run_id


async def test_a_plain_agent_with_2_68s_prefect_model_and_toolset_repeats_nothing_on_a_flow_retry(
    tmp_path: Path,
) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = PrefectModel(
        CountingModel(_steps(), counter),
        task_config=TaskConfig(retries=2),
        get_event_stream_handler=lambda: None,
    )
    toolset = PrefectFunctionToolset(
        _weather_toolset(counter), task_config=TaskConfig(retries=1), tool_task_config={'local_time': None}
    )
    output, flow_run_id = await _run_retried_once(Agent(model, toolsets=[toolset]))

    assert output == 'Sunny at noon.'
    # Two model requests and get_weather once over both attempts; local_time (configured None) runs in flow code.
    assert counter.counts() == {'model': 2, 'get_weather:Paris': 1, 'local_time:Paris': 2}
    states = sorted((t.name.rsplit('-', 1)[0], t.state_name) for t in await read_task_runs(flow_run_id, count=6))
    assert states == sorted(
        [('Model Request: scripted', state) for state in ('Completed', 'Cached') for _ in range(2)]
        + [('Call Tool: get_weather', 'Completed'), ('Call Tool: get_weather', 'Cached')]
    )


async def test_2_68s_prefect_mcp_toolset_calls_are_tasks(tmp_path: Path) -> None:
    calls_file = tmp_path / 'mcp_calls.txt'
    mcp = MCPToolset(
        Client(PythonStdioTransport(MCP_CALCULATOR_PATH, args=[str(calls_file)]), init_timeout=60), id='calculator'
    )
    # The model is durable too: a model asked again would make up new tool-call ids, and so new calls.
    model = PrefectModel(ScriptedModel([[ToolCall('add', {'a': 2, 'b': 3})], 'Five.'], position='history'))
    agent = Agent(model, toolsets=[PrefectMCPToolset(mcp, task_config=TaskConfig(retries=1))])
    output, flow_run_id = await _run_retried_once(agent)

    assert output == 'Five.'
    assert calls_file.read_text().split() == ['add']  # once over both attempts
    states = sorted((t.name.rsplit('-', 1)[0], t.state_name) for t in await read_task_runs(flow_run_id, count=6))
    assert [state for state in states if state[0] == 'Call MCP Tool: add'] == [
        ('Call MCP Tool: add', 'Cached'),
        ('Call MCP Tool: add', 'Completed'),
    ]


async def test_inside_a_prefect_agent_they_step_aside_for_its_own_tasks(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = PrefectModel(CountingModel(_steps(), counter), task_config=TaskConfig())
    toolset = PrefectFunctionToolset(_weather_toolset(counter), task_config=TaskConfig(), tool_task_config={})
    prefect_agent = PrefectAgent(Agent(model, name='dropin_inside', toolsets=[toolset]))

    @flow
    async def outer() -> tuple[str, str]:
        result = await prefect_agent.run('Weather and time in Paris?')
        return result.output, str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    output, flow_run_id = await outer()
    assert output == 'Sunny at noon.'
    [subflow] = await read_subflow_runs(flow_run_id)
    names = sorted(t.name.rsplit('-', 1)[0] for t in await read_task_runs(subflow.id, count=4))
    assert names == [
        'dropin_inside.model_request',
        'dropin_inside.model_request',
        'dropin_inside.tool_call.weather.get_weather',
        'dropin_inside.tool_call.weather.local_time',
    ]


def test_their_task_configs_are_checked_when_built(tmp_path: Path) -> None:
    with pytest.raises(DurableUsageError, match=r"Unknown TaskConfig keys \['retry_condition_fn'\]"):
        PrefectModel(ScriptedModel(['hi']), task_config={'retry_condition_fn': None})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(DurableUsageError, match=r"names the tools \['missing'\].*\['get_weather', 'local_time'\]"):
        PrefectFunctionToolset(
            _weather_toolset(DurableCallCounter(tmp_path / 'calls.log')), tool_task_config={'missing': {}}
        )
    assert PrefectModel(ScriptedModel(['hi']), task_config=StepPolicy(retries=2)).task_config == StepPolicy(retries=2)


def test_the_operation_namer_is_refused_naming_durable_unit_names() -> None:
    with pytest.raises(DurableUsageError, match=r'durable_unit_names\(\)'):
        PrefectOperationNamer(model_task_config=TaskConfig(retries=1))


async def test_prefect_model_streams_in_a_task_to_its_handler_and_replays_without_one() -> None:
    seen_in_task: list[bool] = []

    async def handler(ctx: Any, events: Any) -> None:
        async for event in events:
            if isinstance(event, PartStartEvent):
                seen_in_task.append(TaskRunContext.get() is not None)

    async def stream_once(model: PrefectModel) -> list[Any]:
        @flow
        async def outer() -> list[Any]:
            events: list[Any] = []
            async with Agent(model).iter('hi') as run:
                async for node in run:
                    if Agent.is_model_request_node(node):
                        async with node.stream(run.ctx) as stream:
                            events.extend([event async for event in stream])
            return events

        return await outer()

    with_handler = await stream_once(PrefectModel(ScriptedModel(['hello']), get_event_stream_handler=lambda: handler))
    assert seen_in_task == [True]  # the handler got the live stream inside the task
    assert with_handler == []  # ...so the flow-side stream does not deliver the events twice
    without = await stream_once(PrefectModel(ScriptedModel(['hello'])))
    assert [type(event).__name__ for event in without][:1] == ['PartStartEvent']


async def test_prefect_model_outside_a_flow_calls_the_model_directly() -> None:
    in_task: list[bool] = []

    def answer(messages: Any, info: Any) -> Any:
        in_task.append(TaskRunContext.get() is not None)
        return ModelResponse(parts=[TextPart('direct')])

    assert (await Agent(PrefectModel(FunctionModel(answer))).run('hi')).output == 'direct'
    assert in_task == [False]
