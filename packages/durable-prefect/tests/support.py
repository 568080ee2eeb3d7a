"""Shared helpers of durable-prefect's tests: scripted agents whose every model request and tool call is counted."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from durable_core.testing import DurableCallCounter, ScriptedModel, StepLike, ToolCall
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter
from prefect.client.schemas.objects import FlowRun, TaskRun
from pydantic_ai import Agent, RunContext

__all__ = ['CountingModel', 'ToolCall', 'read_subflow_runs', 'read_task_runs', 'weather_agent']


class CountingModel(ScriptedModel):
    """A scripted model that answers by history position and counts every request at its source, durably."""

    def __init__(self, steps: Sequence[StepLike], counter: DurableCallCounter, *, name: str = 'model') -> None:
        super().__init__(steps, position='history')
        self.counter = counter
        self.counter_name = name

    def _take_step(self, messages: Any) -> Any:  # the one place every request passes through
        self.counter.record(self.counter_name)
        return super()._take_step(messages)


def weather_agent(tmp_path: Path, *, name: str = 'weather', steps: Sequence[StepLike] | None = None, **kwargs: Any):
    """An agent that calls `get_weather` for two cities, then answers; counts in `tmp_path/calls.log`."""
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = CountingModel(
        steps
        or [
            [ToolCall('get_weather', {'city': 'Paris'})],
            [ToolCall('get_weather', {'city': 'Rome'})],
            'Sunny in Paris and Rome.',
        ],
        counter,
    )
    agent = Agent(model, name=name, **kwargs)

    @agent.tool
    def get_weather(ctx: RunContext[Any], city: str) -> str:
        counter.record(f'get_weather:{city}')
        return f'sunny in {city}'

    return agent, counter


async def read_task_runs(flow_run_id: Any, count: int | None = None) -> list[TaskRun]:
    """The task runs of a flow run, oldest first; with `count`, once that many have reached a final state.

    Prefect records task runs from events, a moment after they happen, hence the wait (a bound, not an assertion).
    """
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId
    from prefect.client.schemas.sorting import TaskRunSort

    async with get_client() as client:
        for _ in range(600):
            runs = await client.read_task_runs(
                task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[flow_run_id])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            )
            if count is None or (len(runs) >= count and all(r.state and r.state.is_final() for r in runs)):
                return runs
            await asyncio.sleep(0.1)
    return runs


async def read_subflow_runs(parent_flow_run_id: Any) -> list[FlowRun]:
    """The flow runs nested in a flow run (through its subflow tracking task runs)."""
    async with get_client() as client:
        tracking = await read_task_runs(parent_flow_run_id)
        ids = [t.id for t in tracking]
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_task_run_id={'any_': ids})  # type: ignore[arg-type]
        )
    return runs
