"""PrefectAgent runs as a Prefect flow whose model requests and tool calls are tasks, on the real local server."""

from __future__ import annotations

from pathlib import Path

from durable_prefect import PrefectAgent
from prefect import flow
from prefect.context import get_run_context
from support import weather_agent


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
