"""Crash recovery, for real: SIGKILL a worker subprocess mid-run, start another, and count every call at its source."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from _temporal_support import WorkerProcesses, activity_types, plugin_client_fixture  # noqa: F401
from _wf_recovery import CapabilityRecoveryWorkflow, RecoveryWorkflow
from durable_core.testing import DurableCallCounter
from durable_core.testing._servers import TemporalDevServer
from temporalio.client import Client

HERE = Path(__file__).parent


@pytest.fixture
def workers(temporal_dev_server: TemporalDevServer, task_queue: str, tmp_path: Path) -> Iterator[WorkerProcesses]:
    started = WorkerProcesses(
        '_recovery_worker.py', temporal_dev_server.target, task_queue, str(tmp_path / 'calls.log')
    )
    try:
        yield started
    finally:
        started.stop_all()


FORMS = {'wrapper': (RecoveryWorkflow, 'recovery'), 'capability': (CapabilityRecoveryWorkflow, 'recovery_capability')}
"""The agent as `TemporalAgent(agent)`, and as `Agent(..., capabilities=[TemporalDurability()])` run as it is."""


@pytest.mark.parametrize('form', sorted(FORMS))
async def test_sigkilled_worker_resumes_without_repeating_completed_calls(
    plugin_client: Client, workers: WorkerProcesses, task_queue: str, tmp_path: Path, form: str
) -> None:
    workflow_class, agent_name = FORMS[form]
    counter = DurableCallCounter(tmp_path / 'calls.log')
    first = workers.start('--block')
    handle = await plugin_client.start_workflow(
        workflow_class.run, 'What is 40 + 2?', id=f'recovery-{uuid.uuid4()}', task_queue=task_queue
    )
    # The second model request is in flight in the first worker: kill that worker outright.
    await asyncio.to_thread(counter.wait_for, 'model_request:1:blocked', 1, timeout=120)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert counter.counts() == {
        'worker_started': 1,
        'model_request:0': 1,
        'tool:add': 1,
        'model_request:1': 1,
        'model_request:1:blocked': 1,
    }

    workers.start()
    assert await handle.result() == 'The answer is 42.'

    counts = counter.counts()
    assert counts['model_request:0'] == 1, 'the completed first model request ran again'
    assert counts['tool:add'] == 1, 'the completed tool call ran again'
    assert counts['model_request:1'] == 2  # the one in flight when killed, then once more in the new worker
    assert counts['worker_started'] == 2
    assert await activity_types(handle) == [
        f'{agent_name}.model_request',
        f'{agent_name}.tool_call.agent.add',
        f'{agent_name}.model_request',
    ]
