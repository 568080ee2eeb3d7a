"""PrefectAgent runs as a Prefect flow whose model requests and tool calls are tasks, on the real local server."""

from __future__ import annotations

from pathlib import Path

import pytest
from durable_core.testing import OpenAICompatibleServer
from durable_prefect import PrefectAgent
from prefect import flow
from prefect.context import get_run_context
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.providers.openai import OpenAIProvider
from support import read_subflow_runs, read_task_runs, weather_agent


async def test_run_is_a_flow_with_model_and_tool_tasks(tmp_path: Path) -> None:
    agent, counter = weather_agent(tmp_path)
    prefect_agent = PrefectAgent(agent)
    result = await prefect_agent.run('Weather in Paris and Rome?')
    assert result.output == 'Sunny in Paris and Rome.'
    assert counter.counts() == {'model': 3, 'get_weather:Paris': 1, 'get_weather:Rome': 1}


async def test_run_inside_a_flow_is_a_subflow(tmp_path: Path) -> None:
    agent, counter = weather_agent(tmp_path)
    prefect_agent = PrefectAgent(agent)

    @flow
    async def outer() -> str:
        result = await prefect_agent.run('Weather?')
        return result.output

    assert await outer() == 'Sunny in Paris and Rome.'
    assert counter.total() == 5


async def test_names_are_pinned(tmp_path: Path) -> None:
    agent, _ = weather_agent(tmp_path, name='geo')
    prefect_agent = PrefectAgent(agent)
    assert prefect_agent.flow.name == 'geo.run'
    assert prefect_agent.durable_unit_names() == [
        'geo.model_cancel',
        'geo.model_request',
        'geo.run',
        'geo.tool_call.agent.get_weather',
    ]

    @flow
    async def outer() -> str:
        await prefect_agent.run('Weather?')
        return str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    outer_id = await outer()
    [subflow] = await read_subflow_runs(outer_id)
    task_names = [t.name.rsplit('-', 1)[0] for t in await read_task_runs(subflow.id, count=5)]
    assert sorted(set(task_names)) == ['geo.model_request', 'geo.tool_call.agent.get_weather']


async def test_runtime_model_selection_by_key_and_string(tmp_path: Path) -> None:
    agent, counter = weather_agent(tmp_path, name='models')
    fast = FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart('fast answer')]), model_name='fast-fn')
    prefect_agent = PrefectAgent(agent, models={'fast': fast})
    assert (await prefect_agent.run('hi', model='fast')).output == 'fast answer'
    assert (await prefect_agent.run('hi', model=fast)).output == 'fast answer'  # the registered instance
    assert counter.total() == 0
    result = await prefect_agent.run('hi', model='test')  # a model string, resolved inside the flow
    assert result.all_messages()[-1].model_name == 'test'  # type: ignore[union-attr]
    assert (await prefect_agent.run('hi')).output == 'Sunny in Paris and Rome.'


def test_run_sync_inside_a_sync_flow(tmp_path: Path) -> None:
    agent, counter = weather_agent(tmp_path, name='sync')
    prefect_agent = PrefectAgent(agent)

    @flow
    def outer() -> str:
        return prefect_agent.run_sync('Weather?').output

    assert outer() == 'Sunny in Paris and Rome.'
    assert counter.total() == 5


async def test_run_stream_inside_a_flow_works_not_in_real_time(tmp_path: Path) -> None:
    agent, counter = weather_agent(tmp_path, name='streamed')
    prefect_agent = PrefectAgent(agent)

    @flow
    async def outer() -> list[str]:
        async with prefect_agent.run_stream('Weather?') as stream:
            assert counter.total() == 5  # the whole run is done before the stream yields
            return [text async for text in stream.stream_output(debounce_by=None)]

    assert (await outer())[-1] == 'Sunny in Paris and Rome.'


@pytest.mark.parametrize('api', ['chat', 'responses'])
async def test_run_stream_inside_a_flow_works_on_a_real_openai_compatible_provider(api: str) -> None:
    """The provider's SDK really runs: PydanticAI 2.68 code streaming in a flow on OpenAI (issue 14, item 15)."""
    with OpenAICompatibleServer(['Hello there!']) as server:
        provider = OpenAIProvider(base_url=server.base_url, api_key='test')
        model = (
            OpenAIChatModel('gpt-4o', provider=provider)
            if api == 'chat'
            else OpenAIResponsesModel('gpt-6.1-sol', provider=provider)
        )
        prefect_agent = PrefectAgent(Agent(model, name=f'streamed_{api}'))

        @flow
        async def outer() -> str:
            async with prefect_agent.run_stream('hi') as stream:
                return await stream.get_output()

        assert await outer() == 'Hello there!'
        assert len(server.requests) == 1


async def test_structured_output_keeps_its_type(tmp_path: Path) -> None:
    class City(BaseModel):
        name: str
        country: str

    agent = Agent(
        TestModel(custom_output_args={'name': 'Mexico City', 'country': 'Mexico'}), name='typed', output_type=City
    )
    result = await PrefectAgent(agent).run('Capital of Mexico?')
    assert result.output == City(name='Mexico City', country='Mexico')
