"""Shared helpers of durable-prefect's tests: counted scripted agents, Prefect API reads, worker processes, and an
agent in either durable form (`durable_form`), run the way its form runs durably."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from uuid import UUID, uuid4

import pytest
from durable_core.testing import DurableCallCounter, PreloadedPython, ScriptedModel, StepLike, ToolCall
from durable_prefect import PrefectAgent, PrefectDurability
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.context import get_run_context
from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.models import Model

__all__ = [
    'WAIT',
    'CountingModel',
    'DurableForm',
    'Form',
    'ToolCall',
    'Worker',
    'durable_form',
    'read_subflow_runs',
    'read_task_runs',
    'retried_once',
    'wait_for_deployment',
    'wait_for_final_state',
    'weather_agent',
]

T = TypeVar('T')

WAIT = 180.0  # generous bound on waiting for a worker; not an assertion on speed


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


class Worker:
    """A script under `workers/` that serves deployments, in its own process group, stopped by its process id."""

    def __init__(self, script: Path, log_dir: Path, label: str, env: Mapping[str, str] | None = None) -> None:
        self.log = log_dir / f'worker-{label}.log'
        self.env = dict(env or {})
        """What the worker's environment adds to this process's."""
        with self.log.open('wb') as out:
            self.process = PreloadedPython.shared().popen(
                [sys.executable, str(script)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Prefect's runner keeps its storage in the temp dir and removes it only on a clean exit; the
                # workers are SIGKILLed, so theirs goes under the test's own directory.
                env={**os.environ, 'TMPDIR': str(log_dir), **self.env},
            )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors='replace')[-4000:]


async def wait_for_deployment(name: str, worker: Worker) -> None:
    """Wait until `worker` has created the deployment `name` (it serves it from then on)."""
    async with get_client() as client:
        for _ in range(int(WAIT / 0.25)):
            if worker.process.poll() is not None:
                pytest.fail(f'the worker exited: {worker.output()}')
            try:
                await client.read_deployment_by_name(name)
                return
            except Exception:
                await asyncio.sleep(0.25)
    pytest.fail(f'deployment {name} not created: {worker.output()}')


async def wait_for_final_state(flow_run_id: UUID, worker: Worker) -> FlowRun:
    """Wait until the flow run has reached a final state, and return it."""
    async with get_client() as client:
        for _ in range(int(WAIT / 0.25)):
            flow_run = await client.read_flow_run(flow_run_id)
            if flow_run.state is not None and flow_run.state.is_final():
                return flow_run
            await asyncio.sleep(0.25)
    pytest.fail(f'flow run {flow_run_id} did not finish: {worker.output()}')


async def retried_once(body: Callable[[], Awaitable[T]], *, persist_result: bool | None = None) -> tuple[list[T], str]:
    """Run `body` in a `@flow(retries=1)` that fails once after it: Prefect retries the flow, which runs it again.

    Returns what `body` returned in each attempt, in order, and the flow run's id (both attempts share it).
    """
    attempts: list[T] = []

    @flow(retries=1, retry_delay_seconds=0, persist_result=persist_result)
    async def retried() -> str:
        attempts.append(await body())
        if len(attempts) == 1:
            raise RuntimeError('the flow fails once, after the agent run')
        return str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    flow_run_id = await retried()
    return attempts, flow_run_id


Form = Literal['wrapper', 'capability']
"""How an agent is made durable: `PrefectAgent(agent)`, or `Agent(..., capabilities=[PrefectDurability(...)])`."""


@dataclass(frozen=True)
class DurableForm:
    """One agent made durable in one form, and run the way that form runs durably."""

    form: Form
    agent: PrefectAgent[Any, Any] | Agent[Any, Any]
    """Its `run()` in a flow is durable in both forms."""

    @property
    def name(self) -> str:
        """The agent's name, which names its tasks (`<name>.model_request`, ...)."""
        assert self.agent.name is not None
        return self.agent.name

    async def run(self, *args: Any, **kwargs: Any) -> AgentRunResult[Any]:
        """The wrapper's `run()` starts a flow of its own; the capability is durable only in a flow: ours."""
        if self.form == 'wrapper':
            return await self.agent.run(*args, **kwargs)
        key = str(uuid4())
        _capability_calls[key] = functools.partial(self.agent.run, *args, **kwargs)
        await _run_capability_in_flow(key)
        return _capability_results.pop(key)


def durable_form(
    form: Form,
    model: Model,
    *,
    name: str,
    tools: Sequence[Tool[Any] | Callable[..., Any]] = (),
    output_type: Any = str,
    **durable: Any,
) -> DurableForm:
    """The agent in `form`: the wrapper's named `name`, the capability's `<name>_capability` (names are unique).

    `durable` holds the arguments `PrefectAgent` and `PrefectDurability` share (`event_stream_handler=`, configs).
    """
    if form == 'wrapper':
        return DurableForm(form, PrefectAgent(Agent(model, name=name, tools=tools, output_type=output_type), **durable))
    capability = PrefectDurability(**durable)
    return DurableForm(
        form, Agent(model, name=f'{name}_capability', tools=tools, output_type=output_type, capabilities=[capability])
    )


# The capability form's runs, handed to the flow in this process: the flow is a harness, and its run's arguments
# (handlers, message histories) need no serializing as flow parameters.
_capability_calls: dict[str, Callable[[], Awaitable[AgentRunResult[Any]]]] = {}
_capability_results: dict[str, AgentRunResult[Any]] = {}


@flow(name='tests.run_capability_in_flow')
async def _run_capability_in_flow(key: str) -> None:
    _capability_results[key] = await _capability_calls.pop(key)()
