"""Deploys mid-run: a worker of version 1 is SIGKILLed with a run in flight, and version 2 of the worker resumes it.

Temporal replays the run's history through the new version's workflow code: the activities it schedules must be the
ones the history has, in order. Instructions and the tool list are inputs of the model request, which replay does not
compare, so changing them is safe; removing a tool the run already called is not (`IncompatibleDeployError`, where
Temporal's own non-determinism error would come a step later), and rolling back resumes the run.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from _temporal_support import WorkerProcesses, plugin_client_fixture  # noqa: F401
from _wf_deploy import DeployWorkflow
from durable_core.testing import DurableCallCounter, PreloadedProcess
from durable_core.testing._servers import TemporalDevServer
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

HERE = Path(__file__).parent


class VersionedWorkers(WorkerProcesses):
    """Worker subprocesses of a given version of `_wf_deploy`."""

    def __init__(self, target: str, task_queue: str, counter_file: Path) -> None:
        super().__init__('_deploy_worker.py', target, task_queue)
        self.counter_file = counter_file

    def start_version(self, version: str, *, block: bool = False) -> PreloadedProcess:
        env = {
            'DEPLOY_VERSION': version,
            'DEPLOY_COUNTER': str(self.counter_file),
            'DEPLOY_BLOCK': '1' if block else '',
        }
        return self.start(env=env)


@pytest.fixture
def workers(temporal_dev_server: TemporalDevServer, task_queue: str, tmp_path: Path) -> Iterator[VersionedWorkers]:
    started = VersionedWorkers(temporal_dev_server.target, task_queue, tmp_path / 'calls.log')
    try:
        yield started
    finally:
        started.stop_all()


async def _start_on_v1_and_kill(
    plugin_client: Client, workers: VersionedWorkers, task_queue: str
) -> tuple[WorkflowHandle[DeployWorkflow, str], DurableCallCounter]:
    """Start a run on a v1 worker and SIGKILL it with the second model request in flight (the tool call done)."""
    counter = DurableCallCounter(workers.counter_file)
    first = workers.start_version('v1', block=True)
    handle = await plugin_client.start_workflow(
        DeployWorkflow.run, 'What is 40 + 2?', id=f'deploy-{uuid.uuid4()}', task_queue=task_queue
    )
    await asyncio.to_thread(counter.wait_for, 'v1:model_request:1:blocked', 1, timeout=120)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert counter.counts() == {
        'v1:worker_started': 1,
        'v1:model_request:0': 1,
        'v1:tool:add': 1,
        'v1:model_request:1': 1,
        'v1:model_request:1:blocked': 1,
    }
    return handle, counter


async def test_version_2_with_new_instructions_and_a_new_tool_resumes_the_run(
    plugin_client: Client, workers: VersionedWorkers, task_queue: str
) -> None:
    handle, counter = await _start_on_v1_and_kill(plugin_client, workers, task_queue)
    workers.start_version('v2')
    # v2's worker makes the request in flight again, as v1 scheduled it (its inputs are in the history: v1's tools and
    # messages, which v2 rebuilds from there); nothing completed runs again.
    assert await handle.result() == "The answer is 42 (v2, tools ['add'])."
    counts = counter.counts()
    assert counts['v1:tool:add'] == 1
    assert 'v2:tool:add' not in counts
    assert 'v2:model_request:0' not in counts
    assert counts['v2:model_request:1'] == 1


async def test_version_2_without_a_tool_the_run_called_stops_and_rolling_back_resumes_it(
    plugin_client: Client, workers: VersionedWorkers, task_queue: str
) -> None:
    handle, counter = await _start_on_v1_and_kill(plugin_client, workers, task_queue)
    broken = workers.start_version('v2-without-add')
    # v2's code cannot replay the run (the history has the `add` activity it would not schedule): our error, on the
    # first model response that calls `add`, fails the workflow task, naming the tool and the fix; Temporal retries
    # the task, and the run stays open.
    failure = await _first_workflow_task_failure(handle)
    assert re.search(r"version with the tool\(s\) \['add'\].*roll back the workers", failure), failure
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    broken.kill()
    broken.wait()
    workers.start_version('v1')
    assert await handle.result() in {
        "The answer is 42 (v1, tools ['add']).",
        # v2's activity worker may have completed the request in flight (its activities do not replay anything)
        "The answer is 42 (v2-without-add, tools ['add']).",
    }
    counts = counter.counts()
    assert counts['v1:tool:add'] == 1
    # The request in flight at the kill completed once, on whichever worker; nothing completed ran again.
    completed = counts.get('v2-without-add:model_request:1', 0) + counts.get('v1:model_request:1', 0) - 1
    assert completed == 1, counts
    assert counts['v1:model_request:0'] == 1


async def _first_workflow_task_failure(handle: WorkflowHandle[DeployWorkflow, str]) -> str:
    """The message of the first failed workflow task of the run, once there is one."""
    for _ in range(600):
        async for event in handle.fetch_history_events():
            if event.HasField('workflow_task_failed_event_attributes'):
                return event.workflow_task_failed_event_attributes.failure.message
        await asyncio.sleep(0.1)
    raise AssertionError('no workflow task failed')
