"""Ours against PydanticAI 2.68's `durable_exec.prefect`: `iter()` in a flow, run-time models, 2.68's names (#14).

Each program runs in this process with either implementation's module, on the session's Prefect server:

- item 15a: `async with prefect_agent.iter(...)` inside a user's flow that fails once after the run and is retried:
  the run's output, and each model request and tool call running once over both attempts.
- item 15b: `run(model=<an unregistered model instance>)` inside a flow, and `override(model=...)` with one: a
  `UserError`, and no request at the OpenAI-compatible server.
- item 17: every name of 2.68's `__all__` imports from ours, and a plain `Agent` with `PrefectModel` and
  `PrefectFunctionToolset` built as 2.68 builds them runs in a retried flow.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from _summary import compat_difference
from durable_core.testing import DurableCallCounter, OpenAICompatibleServer, ScriptedModel, ToolCall
from pydantic_ai import Agent, PydanticAIDeprecationWarning, RunContext, UserError
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.toolsets import FunctionToolset

MODULES = {'pydantic_ai': 'pydantic_ai.durable_exec.prefect', 'ours': 'durable_prefect'}
IMPLS = ['pydantic_ai', 'ours']


def _module(impl: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        return importlib.import_module(MODULES[impl])


def _wrap(impl: str, agent: Agent[Any, Any], **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', PydanticAIDeprecationWarning)  # 2.68 deprecates it for its capability
        return _module(impl).PrefectAgent(agent, **kwargs)


class _CountingModel(ScriptedModel):
    def __init__(self, steps: list[Any], counter: DurableCallCounter) -> None:
        super().__init__(steps, position='history')
        self.counter = counter

    def _take_step(self, messages: Any) -> Any:
        self.counter.record('model')
        return super()._take_step(messages)


def _weather_agent(
    counter: DurableCallCounter, name: str, capabilities: Sequence[AbstractCapability[None]] = ()
) -> Agent[None, str]:
    model = _CountingModel([[ToolCall('get_weather', {'city': 'Paris'})], 'Sunny in Paris.'], counter)
    agent = Agent(model, name=name, capabilities=capabilities)

    @agent.tool
    def get_weather(ctx: RunContext[None], city: str) -> str:
        counter.record(f'get_weather:{city}')
        return f'sunny in {city}'

    return agent


async def _in_a_retried_flow(run: Callable[[], Awaitable[str]]) -> tuple[str, list[str]]:
    """`run()` in a user's flow that fails once, after it, and is retried: the flow's result, and each attempt's."""
    from prefect import flow

    attempts: list[str] = []

    @flow(retries=1, retry_delay_seconds=0)
    async def outer() -> str:
        attempts.append(await run())
        if len(attempts) == 1:
            raise RuntimeError('the flow fails once, after the agent run')
        return attempts[-1]

    return await outer(), attempts


async def _output(agent: Any, prompt: str) -> str:
    return (await agent.run(prompt)).output


async def _iter_in_a_retried_flow(durable: Any, counter: DurableCallCounter) -> None:
    """Item 15a in either form: `durable.iter()` of `_weather_agent` in a retried flow repeats nothing."""

    async def iterated() -> str:
        async with durable.iter('Weather in Paris?') as run:
            async for _ in run:
                pass
        assert run.result is not None
        return run.result.output

    output, attempts = await _in_a_retried_flow(iterated)
    assert output == 'Sunny in Paris.'
    assert attempts == ['Sunny in Paris.', 'Sunny in Paris.']
    assert counter.counts() == {'model': 2, 'get_weather:Paris': 1}


async def _unregistered_model_refused_in_a_flow(durable: Any, how: str) -> UserError:
    """Item 15b in either form: `durable` run in a flow with a model instance, passed to `run()` (`how='run'`) or by
    `override()`, is refused with a `UserError` before any request reaches the model's server; the error."""
    from prefect import flow

    with OpenAICompatibleServer(['Hello']) as server:
        model = OpenAIChatModel('gpt-4o', provider=OpenAIProvider(base_url=server.base_url, api_key='test'))

        @flow
        async def outer() -> Any:
            if how == 'run':
                return await durable.run('hi', model=model)
            with durable.override(model=model):
                return await durable.run('hi')

        with pytest.raises(UserError) as raised:
            await outer()
        assert server.calls.total == 0
    return raised.value


@pytest.mark.parametrize('impl', IMPLS)
async def test_iter_inside_a_flow_repeats_nothing_on_a_retry(impl: str, tmp_path: Path, prefect_api_url: str) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    await _iter_in_a_retried_flow(_wrap(impl, _weather_agent(counter, f'compat_iter_{impl}')), counter)


@pytest.mark.parametrize('how', ['run', 'override'])
@pytest.mark.parametrize('impl', IMPLS)
async def test_an_unregistered_model_instance_in_a_flow_is_refused_before_any_request(
    impl: str, how: str, prefect_api_url: str, request: pytest.FixtureRequest
) -> None:
    prefect_agent = _wrap(impl, Agent(TestModel(), name=f'compat_unregistered_{how}_{impl}'))
    error = await _unregistered_model_refused_in_a_flow(prefect_agent, how)
    if impl == 'ours':
        assert 'models={"my_model": model}' in str(error)
        compat_difference(
            request.node.nodeid,
            'deliberate: both refuse; ours takes a model instance registered with models=, 2.68 only its own',
        )


def test_every_name_of_2_68s_prefect_module_imports_from_ours() -> None:
    theirs = _module('pydantic_ai')
    ours = _module('ours')
    assert sorted(set(theirs.__all__) - set(ours.__all__)) == []
    for name in theirs.__all__:
        assert getattr(ours, name) is not None


@pytest.mark.parametrize('impl', IMPLS)
async def test_a_plain_agent_with_prefect_model_and_function_toolset_built_as_2_68_does(
    impl: str, tmp_path: Path, prefect_api_url: str
) -> None:
    module = _module(impl)
    counter = DurableCallCounter(tmp_path / 'calls.log')
    toolset = FunctionToolset[None](id='weather')

    @toolset.tool_plain
    def get_weather(city: str) -> str:
        counter.record(f'get_weather:{city}')
        return f'sunny in {city}'

    steps: list[Any] = [[ToolCall('get_weather', {'city': 'Rome'})], 'Sunny in Rome.']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', PydanticAIDeprecationWarning)
        model = module.PrefectModel(
            _CountingModel(steps, counter), task_config=module.TaskConfig(), get_event_stream_handler=lambda: None
        )
        durable_toolset = module.PrefectFunctionToolset(toolset, task_config=module.TaskConfig(), tool_task_config={})
    agent = Agent(model, toolsets=[durable_toolset])
    output, _ = await _in_a_retried_flow(lambda: _output(agent, 'Weather in Rome?'))
    assert output == 'Sunny in Rome.'
    assert counter.counts() == {'model': 2, 'get_weather:Rome': 1}
