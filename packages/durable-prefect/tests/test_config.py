"""TaskConfig and StepPolicy map onto Prefect task options; UserError is never retried; `None` keeps a tool inline."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from durable_core import StepPolicy
from durable_core.testing import DurableCallCounter, ToolCall
from durable_prefect import DEFAULT_CACHE_POLICY, UNIT_INPUTS, PrefectAgent, TaskConfig
from durable_prefect._config import task_options
from prefect.context import TaskRunContext
from pydantic_ai import Agent, ModelHTTPError, RunContext, UserError
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from support import CountingModel


def test_task_config_maps_onto_prefect_task_options() -> None:
    options = task_options(
        TaskConfig(
            retries=3,
            retry_delay_seconds=[1.0, 2.0, 4.0],
            timeout_seconds=30.0,
            cache_policy=UNIT_INPUTS,
            persist_result=True,
            result_storage='local-file-system/results',
            log_prints=True,
        ),
        what='model_task_config',
    )
    assert {key: options[key] for key in ('retries', 'retry_delay_seconds', 'timeout_seconds', 'log_prints')} == {
        'retries': 3,
        'retry_delay_seconds': [1.0, 2.0, 4.0],
        'timeout_seconds': 30.0,
        'log_prints': True,
    }
    assert options['cache_policy'] is UNIT_INPUTS
    assert options['result_storage'] == 'local-file-system/results'
    assert options['result_serializer'] == 'json'


def test_defaults_make_units_durable() -> None:
    options = task_options(None, what='model_task_config')
    assert options['persist_result'] is True
    assert options['cache_policy'] is DEFAULT_CACHE_POLICY
    assert options['retries'] == 0


def test_step_policy_maps_onto_prefect_task_options() -> None:
    options = task_options(
        StepPolicy(retries=3, initial_interval=1.0, backoff_coefficient=2.0, maximum_interval=3.0, timeout=9.0),
        what='tool_task_config',
    )
    assert (options['retries'], options['retry_delay_seconds'], options['timeout_seconds']) == (3, [1.0, 2.0, 3.0], 9.0)


def _agent(
    tmp_path: Path, name: str, error: type[Exception], failures: int
) -> tuple[Agent[None, str], DurableCallCounter]:
    counter = DurableCallCounter(tmp_path / f'{name}.log')
    model = CountingModel([[ToolCall('flaky', {})], 'done'], counter)
    agent = Agent(model, name=name)

    @agent.tool
    def flaky(ctx: RunContext[Any]) -> str:
        counter.record('flaky')
        if counter.count('flaky') <= failures:
            raise error('not yet')
        return 'ok'

    return agent, counter


@pytest.mark.parametrize(
    'config',
    [TaskConfig(retries=2, retry_delay_seconds=0), StepPolicy(retries=2, initial_interval=0)],
    ids=['TaskConfig', 'StepPolicy'],
)
async def test_failed_tool_task_is_retried(tmp_path: Path, config: Any) -> None:
    agent, counter = _agent(tmp_path, 'retried', RuntimeError, failures=2)
    result = await PrefectAgent(agent, tool_task_config=config).run('go')
    assert result.output == 'done'
    assert counter.counts() == {'model': 2, 'flaky': 3}


async def test_user_error_is_never_retried(tmp_path: Path) -> None:
    agent, counter = _agent(tmp_path, 'user_error', UserError, failures=5)
    prefect_agent = PrefectAgent(agent, tool_task_config=TaskConfig(retries=3, retry_delay_seconds=0))
    with pytest.raises(UserError, match='not yet'):
        await prefect_agent.run('go')
    assert counter.counts() == {'model': 1, 'flaky': 1}


async def test_a_rejected_model_request_is_never_retried(tmp_path: Path) -> None:
    """A 400 from the provider fails the same way each time: the model-request task fails at once, unretried."""
    counter = DurableCallCounter(tmp_path / 'calls.log')

    def reject(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        counter.record('model')
        raise ModelHTTPError(400, 'scripted', body={'error': 'bad request'})

    prefect_agent = PrefectAgent(
        Agent(FunctionModel(reject), name='rejected'), model_task_config=TaskConfig(retries=3, retry_delay_seconds=0)
    )
    with pytest.raises(ModelHTTPError, match='status_code: 400'):
        await prefect_agent.run('go')
    assert counter.counts() == {'model': 1}


async def test_a_rate_limited_model_request_is_retried(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')

    def limited_once(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        counter.record('model')
        if counter.count('model') == 1:
            raise ModelHTTPError(429, 'scripted', body={'error': 'slow down'})
        return ModelResponse(parts=[TextPart('done')])

    prefect_agent = PrefectAgent(
        Agent(FunctionModel(limited_once), name='limited'),
        model_task_config=TaskConfig(retries=3, retry_delay_seconds=0),
    )
    assert (await prefect_agent.run('go')).output == 'done'
    assert counter.counts() == {'model': 2}


async def test_timeout_fails_the_task(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    agent = Agent(CountingModel([[ToolCall('hang', {})], 'done'], counter), name='timeout')

    @agent.tool
    async def hang(ctx: RunContext[Any]) -> str:
        counter.record('hang')
        await asyncio.Event().wait()  # never set: only the timeout ends it
        return 'unreachable'

    prefect_agent = PrefectAgent(agent, tool_task_config=TaskConfig(timeout_seconds=0.2))
    with pytest.raises(TimeoutError):
        await prefect_agent.run('go')
    assert counter.count('hang') == 1


async def test_tool_configured_none_runs_inline_others_as_tasks(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = CountingModel([[ToolCall('fast_tool', {}), ToolCall('slow_tool', {})], 'done'], counter)
    agent = Agent(model, name='by_name')

    @agent.tool_plain
    def fast_tool() -> str:
        counter.record(f'fast_tool:in_task={TaskRunContext.get() is not None}')
        return 'fast'

    @agent.tool_plain
    def slow_tool() -> str:
        task_run = TaskRunContext.get()
        counter.record(f'slow_tool:task={task_run.task.name if task_run else None}')
        return 'slow'

    prefect_agent = PrefectAgent(
        agent, tool_task_config_by_name={'slow_tool': TaskConfig(timeout_seconds=60.0), 'fast_tool': None}
    )
    assert (await prefect_agent.run('go')).output == 'done'
    assert counter.counts() == {
        'model': 2,
        'fast_tool:in_task=False': 1,
        'slow_tool:task=by_name.tool_call.agent.slow_tool': 1,
    }
