"""Deployments on the real local server: served by a worker subprocess, killed with SIGKILL mid-run, rerun.

Every model request and tool call is counted at its source (a fsync'ed `DurableCallCounter`), so the counts
prove that the rerun of the killed flow run repeated no completed unit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from durable_core.testing import DurableCallCounter
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.states import Scheduled
from support import WAIT, Worker, wait_for_deployment, wait_for_final_state

WORKER = Path(__file__).parent / 'workers' / 'deployment_worker.py'


@pytest.fixture
async def worker_factory() -> AsyncIterator[list[Worker]]:
    workers: list[Worker] = []
    yield workers
    for worker in workers:
        worker.kill()


async def test_served_deployments_and_a_killed_run_rerun_without_repeating_units(
    tmp_path: Path, worker_factory: list[Worker]
) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    first = Worker(WORKER, tmp_path, 'first')
    worker_factory.append(first)
    await wait_for_deployment('agent-in-flow/sigkill', first)

    async with get_client() as client:
        deployment = await client.read_deployment_by_name('agent-in-flow/sigkill')
    assert [schedule.schedule.cron for schedule in deployment.schedules] == ['0 0 1 1 *']  # type: ignore[union-attr]

    flow_run = await run_deployment(
        'agent-in-flow/sigkill', parameters={'prompt': 'look up a and b', 'counter_path': str(counter.path)}, timeout=0
    )
    assert isinstance(flow_run, FlowRun)
    # The second tool call is in flight: two model requests and lookup(a) completed.
    await asyncio.to_thread(counter.wait_for, 'lookup:b', 1, timeout=WAIT)
    first.kill()
    assert counter.counts() == {'model': 2, 'lookup:a': 1, 'lookup:b': 1}

    # Rerun the same flow run: schedule it again and let a fresh worker pick it up.
    async with get_client() as client:
        await client.set_flow_run_state(flow_run.id, Scheduled(), force=True)
    second = Worker(WORKER, tmp_path, 'second')
    worker_factory.append(second)
    finished = await wait_for_final_state(flow_run.id, second)
    assert finished.state_name == 'Completed', second.output()
    # Completed units loaded from storage: only the interrupted tool call and the last model request ran.
    assert counter.counts() == {'model': 3, 'lookup:a': 1, 'lookup:b': 2}
    async with get_client() as client:
        assert await (await client.read_flow_run(flow_run.id)).state.aresult() == 'a and b looked up'  # type: ignore[union-attr]

    # The same (restarted) worker serves a flow that uses a module-level agent: the worker's import of the
    # module creates it, so nothing about it is serialized into the deployment.
    module_run = await run_deployment('module-level-agent/module', parameters={'prompt': 'hi'}, timeout=0)
    assert isinstance(module_run, FlowRun)
    finished = await wait_for_final_state(module_run.id, second)
    assert finished.state_name == 'Completed', second.output()
