"""Misuse gets a clear error, raised before anything runs, that names the fix."""

from __future__ import annotations

from typing import Any

import pytest
from durable_core import DurableNameError, DurableUsageError, NotInDurableUnitError
from durable_core.testing import OpenAICompatibleServer
from durable_prefect import PrefectAgent, TaskConfig
from prefect import flow
from prefect.context import get_run_context
from pydantic_ai import Agent, UserError
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.toolsets import FunctionToolset
from support import read_subflow_runs, read_task_runs


def _answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[TextPart('hi')])


def test_missing_name() -> None:
    with pytest.raises(DurableNameError, match=r"Agent\(\.\.\., name='my_agent'\)"):
        PrefectAgent(Agent(TestModel()))


def test_invalid_name() -> None:
    with pytest.raises(DurableNameError, match='not a valid durable name'):
        PrefectAgent(Agent(TestModel(), name='has space'))


def test_a_second_agent_of_one_name_with_other_tools_is_refused_naming_the_prefect_reason() -> None:
    def lookup() -> str:
        return 'found'

    first = PrefectAgent(Agent(TestModel(), name='named_twice'))
    with pytest.raises(DurableNameError, match=r"already named 'named_twice'.*Prefect UI and in the tasks' cache keys"):
        PrefectAgent(Agent(TestModel(), name='named_twice', tools=[lookup]))
    again = PrefectAgent(Agent(TestModel(), name='named_twice'))  # the same units, as a flow creating it each run
    assert again.durable_unit_names() == first.durable_unit_names()


async def test_unregistered_model_instance_in_a_flow() -> None:
    prefect_agent = PrefectAgent(Agent(TestModel(), name='unregistered'))

    @flow
    async def outer() -> str:
        return (await prefect_agent.run('hi', model=FunctionModel(_answer))).output

    with pytest.raises(DurableUsageError, match=r'models=\{"my_model": model\}'):
        await outer()


async def test_unregistered_model_instance_outside_a_flow() -> None:
    prefect_agent = PrefectAgent(Agent(TestModel(), name='unregistered_outside'))
    with pytest.raises(DurableUsageError, match='was not registered'):
        await prefect_agent.run('hi', model=FunctionModel(_answer))


@pytest.mark.parametrize('how', ['run', 'iter', 'override'])
async def test_an_unregistered_model_instance_in_a_flow_is_refused_before_any_request(how: str) -> None:
    """Issue 14, item 15b: the provider's server sees no request; the error is a `UserError` naming `models=`."""
    with OpenAICompatibleServer(['Hello']) as server:
        model = OpenAIChatModel('gpt-4o', provider=OpenAIProvider(base_url=server.base_url, api_key='test'))
        prefect_agent = PrefectAgent(Agent(TestModel(), name=f'unregistered_{how}'))

        @flow
        async def outer() -> Any:
            if how == 'run':
                return await prefect_agent.run('hi', model=model)
            if how == 'iter':
                async with prefect_agent.iter('hi', model=model) as run:
                    async for _ in run:
                        pass
                return run.result
            with prefect_agent.override(model=model):  # the override was used as is before: one request
                return await prefect_agent.run('hi')

        with pytest.raises(UserError, match=r'models=\{"my_model": model\}'):
            await outer()
        assert server.calls.total == 0


async def test_a_registered_model_instance_overridden_in_a_flow_runs_in_tasks() -> None:
    with OpenAICompatibleServer(['Hello']) as server:
        model = OpenAIChatModel('gpt-4o', provider=OpenAIProvider(base_url=server.base_url, api_key='test'))
        prefect_agent = PrefectAgent(Agent(TestModel(), name='registered_override'), models={'served': model})

        @flow
        async def outer() -> Any:
            with prefect_agent.override(model=model):
                result = await prefect_agent.run('hi')
            return result.output, get_run_context().flow_run.id  # type: ignore[union-attr]

        output, flow_run_id = await outer()
        assert output == 'Hello'
        assert server.calls.total == 1
        (subflow,) = await read_subflow_runs(flow_run_id)
        task_names = [t.name.rsplit('-', 1)[0] for t in await read_task_runs(subflow.id, count=1)]
        assert task_names == ['registered_override.model_request']


async def test_runtime_toolsets() -> None:
    prefect_agent = PrefectAgent(Agent(TestModel(), name='runtime_toolsets'))
    with pytest.raises(DurableUsageError, match=r'Agent\(\.\.\., toolsets=\[\.\.\.\]\)'):
        await prefect_agent.run('hi', toolsets=[FunctionToolset()])


def test_toolset_without_id() -> None:
    toolset = FunctionToolset[None]()
    with pytest.raises(DurableNameError, match=r"FunctionToolset\(\.\.\., id='my_toolset'\)"):
        PrefectAgent(Agent(TestModel(), name='no_toolset_id', toolsets=[toolset]))


@pytest.mark.parametrize(
    ('config', 'message'),
    [
        ({'retries': 1, 'retry_delay': 1.0}, r"Unknown TaskConfig keys \['retry_delay'\]"),
        (TaskConfig(retries=-1), 'retries must be an int of 0 or more'),
        (TaskConfig(timeout_seconds=0), 'timeout_seconds must be a positive number'),
        (
            {'cache_policy': 'inputs'},
            r'cache_policy must be a Prefect CachePolicy, such as durable_prefect\.UNIT_INPUTS',
        ),
        (3, 'must be a TaskConfig'),
    ],
)
def test_bad_task_config(config: Any, message: str) -> None:
    with pytest.raises(DurableUsageError, match=message):
        PrefectAgent(Agent(TestModel(), name='bad_config'), model_task_config=config)


async def test_run_stream_events_inside_a_flow_is_refused() -> None:
    prefect_agent = PrefectAgent(Agent(TestModel(), name='events_in_flow'))

    @flow
    async def outer() -> None:
        async with prefect_agent.run_stream_events('hi') as events:
            async for _ in events:
                pass

    with pytest.raises(NotInDurableUnitError, match='event_stream_handler'):
        await outer()


def test_a_config_for_a_tool_the_agent_does_not_have_is_refused_naming_its_tools() -> None:
    agent = Agent(TestModel(), name='misuse_typo')

    @agent.tool_plain
    def get_weather(city: str) -> str:
        return city

    with pytest.raises(
        DurableNameError, match=r"tool_task_config_by_name names the tool 'get_wether'.*\['get_weather'\]"
    ):
        PrefectAgent(agent, tool_task_config_by_name={'get_wether': TaskConfig(retries=1)})


def test_a_tool_config_is_accepted_by_name_when_a_dynamic_toolset_may_have_that_tool() -> None:
    agent = Agent(TestModel(), name='misuse_dynamic_names')

    @agent.toolset(id='per_run')
    def tools(ctx: Any) -> None:
        return None

    prefect_agent = PrefectAgent(agent, tool_task_config_by_name={'made_at_run_time': None})
    assert prefect_agent.unit_configs.tool_by_name == {'made_at_run_time': None}
