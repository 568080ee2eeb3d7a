"""Ours against PydanticAI 2.68's `durable_exec.prefect`: the capability form, `PrefectDurability` (issue 15).

One program, run in this process with either implementation's module on the session's Prefect server: a plain
`Agent` with the capability (and an event handler) runs in a user's flow that fails once after the run and is
retried, then once outside any flow. Both must give the same output, each model request and tool call once over both
attempts of the flow (and again outside it), and the same kinds of events. The task names differ, deliberately:
ours are our wrapper's (`<agent>.model_request`), so that both forms make the same tasks.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any

import pytest
from _summary import compat_difference
from durable_core.testing import DurableCallCounter, ToolCall
from pydantic_ai import Agent, AgentStreamEvent, RunContext
from test_prefect_dropin_compat import _CountingModel, _in_a_retried_flow, _output  # pyright: ignore[reportPrivateUsage]

MODULES = {'pydantic_ai': 'pydantic_ai.durable_exec.prefect', 'ours': 'durable_prefect'}


async def _program(impl: str, tmp_path: Path) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        module = importlib.import_module(MODULES[impl])
    counter = DurableCallCounter(tmp_path / f'{impl}.log')
    events: list[str] = []

    async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
        async for event in stream:
            events.append(type(event).__name__)

    model = _CountingModel([[ToolCall('get_weather', {'city': 'Paris'})], 'Sunny in Paris.'], counter)
    agent = Agent(
        model, name=f'compat_capability_{impl}', capabilities=[module.PrefectDurability(event_stream_handler=record)]
    )

    @agent.tool_plain
    def get_weather(city: str) -> str:
        counter.record(f'get_weather:{city}')
        return f'sunny in {city}'

    in_flow, _ = await _in_a_retried_flow(lambda: _output(agent, 'Weather in Paris?'))
    report: dict[str, Any] = {'in_flow': in_flow, 'in_flow_counts': counter.counts()}
    report['in_flow_events'] = sorted(set(events))
    events.clear()
    report['outside'] = (await agent.run('Weather in Paris?')).output
    report['outside_counts'] = counter.counts()
    report['outside_events'] = sorted(set(events))
    return report


async def test_a_capability_agent_runs_the_same_with_both(
    tmp_path: Path, prefect_api_url: str, request: pytest.FixtureRequest
) -> None:
    theirs = await _program('pydantic_ai', tmp_path)
    ours = await _program('ours', tmp_path)
    assert theirs['in_flow'] == 'Sunny in Paris.'
    assert theirs['in_flow_counts'] == {'model': 2, 'get_weather:Paris': 1}
    assert theirs['outside_counts'] == {'model': 4, 'get_weather:Paris': 2}
    assert ours == theirs
    compat_difference(request.node.nodeid, "deliberate: task names are our wrapper's, as PrefectAgent's (migrating.md)")
