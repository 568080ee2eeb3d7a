"""What comes back from the journal is exactly what went in, after a SIGKILL and a recovery in another process.

A worker process (`workers/journal_worker.py`) is killed while a tool is running, and a second process recovers
the run. Every model request and tool call is counted at its source, in a file that survives the kill.
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
from _support import committed_steps
from durable_core.testing import DurableCallCounter, PreloadedProcess, PreloadedPython

WORKER = Path(__file__).parent / 'workers' / 'journal_worker.py'
ECHO_STEP = 'journal_agent.tool_call.agent.echo'


class JournalWorker:
    """The journal worker's processes for one workflow id: start and SIGKILL one, then recover or read."""

    def __init__(self, db_url: str, counter_file: Path) -> None:
        self.db_url = db_url
        self.counter = DurableCallCounter(counter_file)
        self.workflow_id = f'journal-{uuid.uuid4()}'
        self._process: PreloadedProcess | None = None

    def _command(self, mode: str, *flags: str) -> list[str]:
        return [sys.executable, str(WORKER), mode, self.db_url, str(self.counter.path), self.workflow_id, *flags]

    def start_and_kill_mid_tool(self, *flags: str, runs: list[str]) -> None:
        """Start the shape, and SIGKILL the process once every run's first echo is checkpointed and its second runs."""
        self._process = PreloadedPython.shared().popen(
            self._command('start', *flags), stdout=subprocess.PIPE, text=True
        )
        for run in runs:
            self.counter.wait_for(f'tool:{run}:2', timeout=120)
        deadline = time.monotonic() + 120
        while committed_steps(self.db_url, ECHO_STEP) < len(runs):
            assert time.monotonic() < deadline, 'the first echo of each run was not checkpointed in time'
            time.sleep(0.1)
        assert self._process.poll() is None, 'the worker ended before it was killed'
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def run(self, mode: str, *flags: str) -> dict[str, Any]:
        done = PreloadedPython.shared().run(self._command(mode, *flags), capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def counts(self) -> dict[str, int]:
        """Calls of the interrupted and recovered run (not of the uninterrupted one run after it)."""
        return {name: n for name, n in self.counter.counts().items() if not name.startswith('clean:')}

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()


@pytest.fixture
def worker(dbos_config: Callable[..., dict[str, Any]], tmp_path: Path) -> Iterator[JournalWorker]:
    process = JournalWorker(dbos_config()['system_database_url'], tmp_path / 'calls.log')
    yield process
    process.stop()


def _echoes(run: str) -> dict[str, Any]:
    return {
        'is_agent_run_result': True,
        'output_type': 'Echoes',
        'output': {'run': run, 'texts': [f'echo-{run}-1', f'echo-{run}-2']},
        'message_kinds': ['request', 'response', 'request', 'response', 'request'],
    }


def _ran_once_after_checkpoint(counts: dict[str, int], runs: list[str]) -> None:
    # The second echo was in flight at the kill, so it ran again; nothing that had completed did.
    expected: dict[str, int] = {}
    for run in runs:
        expected |= {f'model:{run}:1': 1, f'tool:{run}:1': 1, f'tool:{run}:2': 2, f'model:{run}:2': 1}
    assert counts == expected


# Three trials: the bug this guards against was intermittent. The last one with DBOS's portable JSON serializer.
@pytest.mark.parametrize('trial', ['1', '2', '3-portable'])
def test_two_runs_gathered_in_a_user_workflow_each_keep_their_own_data_after_a_kill(
    worker: JournalWorker, trial: str
) -> None:
    flags = ('--portable',) if trial.endswith('portable') else ()
    worker.start_and_kill_mid_tool('--shape', 'gather', *flags, runs=['R1', 'R2'])

    report = worker.run('recover', '--shape', 'gather', *flags)

    assert report['recovered'] == [_echoes('R1'), _echoes('R2')]
    assert report['clean'] == report['recovered']
    _ran_once_after_checkpoint(worker.counts(), ['R1', 'R2'])
    # Each run is a child workflow of the user's: a start and a result in the parent's journal, in call order,
    # whatever order the runs' steps took; the same on the recovered execution as on an uninterrupted one.
    assert report['journal'] == report['clean_journal']
    assert report['journal']['steps'] == ['journal_agent.run', 'DBOS.getResult'] * 2
    run_steps = ['journal_agent.model_request', ECHO_STEP, ECHO_STEP, 'journal_agent.model_request']
    assert report['journal']['children'] == [run_steps, run_steps]


def test_a_recovered_result_read_through_dbos_is_a_typed_agent_run_result(worker: JournalWorker) -> None:
    worker.start_and_kill_mid_tool('--shape', 'single', runs=['R1'])

    report = worker.run('recover', '--shape', 'single')

    # DBOS.retrieve_workflow_async(id).get_result() in the recovering process: the agent's output type.
    assert report['recovered'] == _echoes('R1')
    assert report['clean'] == report['recovered']
    _ran_once_after_checkpoint(worker.counts(), ['R1'])

    # A fresh process that only defines the agent reads the same typed result.
    assert worker.run('read', '--shape', 'single') == {'result': _echoes('R1')}
    # Without the agent, the error names the fix.
    error = worker.run('read', '--shape', 'single', '--without-agent')
    assert error['error'] == 'DurableUsageError'
    assert "Create the DBOSAgent named 'journal_agent' at import time in this process" in error['message']
