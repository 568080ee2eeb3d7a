"""Deployments on the real local server: served by a worker subprocess, killed with SIGKILL mid-run, rerun.

Every model request and tool call is counted at its source (a fsync'ed `DurableCallCounter`), so the counts
prove that the rerun of the killed flow run repeated no completed unit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from durable_core.testing import DurableCallCounter
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.states import Scheduled

WORKER = Path(__file__).parent / 'workers' / 'deployment_worker.py'
WAIT = 180.0  # generous bound on waiting for the worker; not an assertion on speed


class Worker:
    """`deployment_worker.py` in its own process group, stopped by its process id."""

    def __init__(self, tmp_path: Path, label: str) -> None:
        self.log = tmp_path / f'worker-{label}.log'
        with self.log.open('wb') as out:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors='replace')[-4000:]


@pytest.fixture
async def worker_factory(tmp_path: Path) -> AsyncIterator[list[Worker]]:
    workers: list[Worker] = []
    yield workers
    for worker in workers:
        worker.kill()


async def _wait_for_deployment(name: str, worker: Worker) -> None:
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


async def _wait_for_final_state(flow_run_id: UUID, worker: Worker) -> FlowRun:
    async with get_client() as client:
        for _ in range(int(WAIT / 0.25)):
            flow_run = await client.read_flow_run(flow_run_id)
            if flow_run.state is not None and flow_run.state.is_final():
                return flow_run
            await asyncio.sleep(0.25)
    pytest.fail(f'flow run {flow_run_id} did not finish: {worker.output()}')


async def test_served_deployments_and_a_killed_run_rerun_without_repeating_units(
    tmp_path: Path, worker_factory: list[Worker]
) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    first = Worker(tmp_path, 'first')
    worker_factory.append(first)
    await _wait_for_deployment('agent-in-flow/sigkill', first)

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
    second = Worker(tmp_path, 'second')
    worker_factory.append(second)
    finished = await _wait_for_final_state(flow_run.id, second)
    assert finished.state_name == 'Completed', second.output()
    # Completed units loaded from storage: only the interrupted tool call and the last model request ran.
    assert counter.counts() == {'model': 3, 'lookup:a': 1, 'lookup:b': 2}
    async with get_client() as client:
        assert await (await client.read_flow_run(flow_run.id)).state.aresult() == 'a and b looked up'  # type: ignore[union-attr]

    # The same (restarted) worker serves a flow that uses a module-level agent: the worker's import of the
    # module creates it, so nothing about it is serialized into the deployment.
    module_run = await run_deployment('module-level-agent/module', parameters={'prompt': 'hi'}, timeout=0)
    assert isinstance(module_run, FlowRun)
    finished = await _wait_for_final_state(module_run.id, second)
    assert finished.state_name == 'Completed', second.output()
