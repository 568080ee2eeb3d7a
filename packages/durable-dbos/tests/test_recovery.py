"""Crash recovery for real: a worker process is SIGKILLed mid-run and a new one finishes the run.

Every model request and tool call is counted at its source in a file that survives the kill, so the
tests prove that completed units ran exactly once, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _support import raw_records
from durable_core.testing import DurableCallCounter, PreloadedProcess, PreloadedPython

WORKER = Path(__file__).parent / 'workers' / 'crash_worker.py'


class Worker:
    """One run of the crash worker: start it, SIGKILL it, restart it in recovery mode."""

    def __init__(self, db_url: str, counter_file: Path, form: str = 'wrapper') -> None:
        self.db_url = db_url
        self.form = form
        self.counter = DurableCallCounter(counter_file)
        self.workflow_id = f'crash-{uuid.uuid4()}'
        self._process: PreloadedProcess | None = None

    def _command(self, mode: str, *flags: str) -> list[str]:
        worker = [sys.executable, str(WORKER), mode, self.db_url, str(self.counter.path), self.workflow_id]
        return [*worker, '--form', self.form, *flags]

    def start(self, *flags: str) -> None:
        self._process = PreloadedPython.shared().popen(
            self._command('start', *flags), stdout=subprocess.PIPE, text=True
        )

    def kill(self) -> None:
        assert self._process is not None
        assert self._process.poll() is None, 'the worker ended before it was killed'
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def recover(self, *flags: str) -> dict[str, Any]:
        done = PreloadedPython.shared().run(
            self._command('recover', *flags), capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def wait_for_checkpoints(self, count: int, timeout: float = 120) -> None:
        """Wait until `count` step outputs are committed: a step counts as completed only then."""
        deadline = time.monotonic() + timeout
        while sum(table == 'step_output' for table, _, _ in raw_records(self.db_url, self.workflow_id)) < count:
            assert time.monotonic() < deadline, f'fewer than {count} steps were checkpointed in time'
            time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


@pytest.fixture
def worker(dbos_config: Callable[..., dict[str, Any]], tmp_path: Path) -> Iterator[Worker]:
    process = Worker(dbos_config()['system_database_url'], tmp_path / 'calls.log')
    yield process
    process.stop()


@pytest.fixture(params=['wrapper', 'capability'])
def either_form(request: pytest.FixtureRequest, worker: Worker) -> Worker:
    """The worker, its agent durable by `DBOSAgent` or by `DBOSDurability` in the app's own workflow."""
    worker.form = request.param
    return worker


def test_killed_mid_run_recovers_without_repeating_completed_units(either_form: Worker) -> None:
    worker = either_form
    worker.start()
    worker.counter.wait_for('model:2', timeout=120)  # the second model request is in flight, and blocks
    worker.kill()
    assert worker.counter.counts() == {'model:1': 1, 'tool:a': 1, 'model:2': 1}

    outcome = worker.recover()

    assert outcome == {'status': 'SUCCESS', 'output': 'remembered a and b'}
    # The request in flight at the kill ran again (it never completed); nothing that completed did.
    assert worker.counter.counts() == {'model:1': 1, 'tool:a': 1, 'model:2': 2, 'tool:b': 1, 'model:3': 1}
    # With DBOS's portable serializer configured, every record of the run is JSON.
    records = raw_records(worker.db_url, worker.workflow_id)
    assert {serialization for _, serialization, _ in records} == {'portable_json'}
    for _, _, text in records:
        if text is not None:
            json.loads(text)


def test_twenty_parallel_tool_calls_killed_and_recovered(either_form: Worker) -> None:
    worker = either_form
    worker.start('--parallel', '20')
    for n in range(1, 20, 2):
        worker.counter.wait_for(f'square:{n}', timeout=120)
    worker.wait_for_checkpoints(1 + 10)  # the model request and the ten even calls
    worker.kill()

    outcome = worker.recover('--parallel', '20')

    assert outcome == {'status': 'SUCCESS', 'output': 'all squared'}
    counts = worker.counter.counts()
    assert counts['model:1'] == 1
    assert counts['model:2'] == 1
    for n in range(20):
        # Even calls completed before the kill and were not repeated; odd ones hung and ran again.
        assert counts[f'square:{n}'] == (1 if n % 2 == 0 else 2), n
        assert counts[f'square_done:{n}'] == 1, n


def test_a_pinned_application_version_keeps_in_flight_runs_recoverable_across_a_code_change(worker: Worker) -> None:
    worker.start('--app-version', 'release-1')
    worker.counter.wait_for('model:2', timeout=120)
    worker.kill()

    outcome = worker.recover('--app-version', 'release-1', '--code-change')

    assert outcome == {'status': 'SUCCESS', 'output': 'remembered a and b'}
    assert worker.counter.count('tool:a') == 1


def test_without_a_pinned_version_a_code_change_leaves_the_run_pending(worker: Worker) -> None:
    worker.start()
    worker.counter.wait_for('model:2', timeout=120)
    worker.kill()

    outcome = worker.recover('--code-change', '--expect-no-recovery')

    # DBOS recovers only workflows of the running code's version, a hash of the workflow code.
    assert outcome['status'] == 'PENDING'
    assert worker.counter.counts() == {'model:1': 1, 'tool:a': 1, 'model:2': 1}


def test_a_run_a_wrapper_started_recovers_after_a_deploy_that_moved_to_the_capability(worker: Worker) -> None:
    # The release before the deploy runs DBOSAgent; the one after, DBOSDurability registering DBOSAgent's workflow.
    worker.start('--app-version', 'release-1')
    worker.counter.wait_for('model:2', timeout=120)
    worker.kill()

    worker.form = 'capability'
    outcome = worker.recover('--app-version', 'release-1', '--register-legacy-workflows')

    assert outcome == {'status': 'SUCCESS', 'output': 'remembered a and b'}
    assert worker.counter.counts() == {'model:1': 1, 'tool:a': 1, 'model:2': 2, 'tool:b': 1, 'model:3': 1}
