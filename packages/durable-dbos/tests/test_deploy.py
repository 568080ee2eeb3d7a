"""Deploys mid-run: a worker of version 1 is SIGKILLed with a run in flight, and version 2 of the worker resumes it.

DBOS recovers, at launch, the pending runs of the running code's `application_version` (pinned here, as a deploy
must): it runs the workflow again, returning each journaled step's recorded result in step order, and runs the steps
that did not complete. Instructions and the tool list are inputs of the model request, which DBOS does not compare,
so changing them is safe; removing a tool the run already called is not: the binding stops the run with
`IncompatibleDeployError`, leaving it PENDING, and rolling back resumes it. A breaking change deployed under a new
`application_version` leaves the old runs to the old version's workers.

The worker (`workers/deploy_worker.py`) counts every model request and tool call at its source in a file that
survives the kill; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _support import system_database
from durable_core.testing import DurableCallCounter, PreloadedProcess, PreloadedPython

WORKER = Path(__file__).parent / 'workers' / 'deploy_worker.py'
V1_AT_THE_KILL = {
    'v1:worker_started': 1,
    'v1:model_request:0': 1,
    'v1:tool:add': 1,
    'v1:model_request:1': 1,
    'v1:model_request:1:blocked': 1,
}
"""What version 1 did before the kill: the first request and the tool call completed, the second request started."""
V1_OUTPUT = "42 (v1 1.0.0, tools ['add'], instructions 'Add the numbers.')"
V2_OUTPUT = "42 (v2 2.0.0, tools ['add', 'multiply'], instructions 'Add or multiply the numbers.')"


class Deploys:
    """Worker processes of each version, on one system database, all serving the run `workflow_id`."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.db_url = db_url
        self.tmp_path = tmp_path
        self.counter = DurableCallCounter(tmp_path / 'calls.log')
        self.workflow_id = f'deploy-{uuid.uuid4()}'
        self._processes: list[PreloadedProcess] = []

    def _command(self, mode: str) -> list[str]:
        return [sys.executable, str(WORKER), mode, self.db_url, str(self.counter.path), self.workflow_id]

    def _env(self, version: str, app_version: str) -> dict[str, str]:
        return {**os.environ, 'DEPLOY_VERSION': version, 'DEPLOY_APP_VERSION': app_version}

    def start_on_v1_and_kill(self) -> None:
        """Start the run on version 1 and SIGKILL its worker with the second model request in flight."""
        first = self.background('v1', 'start')
        self.counter.wait_for('v1:model_request:1:blocked', timeout=120)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert self.counter.counts() == V1_AT_THE_KILL

    def background(self, version: str, mode: str, app_version: str = 'release-1') -> PreloadedProcess:
        """A worker left running, its stderr (DBOS's log) in `<version>.log`."""
        log = (self.tmp_path / f'{version}.log').open('w')
        process = PreloadedPython.shared().popen(
            self._command(mode), env=self._env(version, app_version), stderr=log, text=True
        )
        self._processes.append(process)
        return process

    def run(self, version: str, mode: str, app_version: str = 'release-1') -> dict[str, Any]:
        """Run a worker to its end; what it printed last, as JSON."""
        done = PreloadedPython.shared().run(
            self._command(mode), env=self._env(version, app_version), capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def wait_for_log(self, version: str, text: str, timeout: float = 120) -> str:
        """The first line of a background worker's log that contains `text`, once there is one."""
        deadline = time.monotonic() + timeout
        while True:
            for line in (self.tmp_path / f'{version}.log').read_text().splitlines():
                if text in line:
                    return line
            assert time.monotonic() < deadline, f'{version} logged no {text!r} in time'
            time.sleep(0.1)

    def journal(self) -> tuple[str, str, int, list[str]]:
        """The run's status, application version, recovery attempts and journaled step names, in step order.

        Read straight from the system database. Each worker that recovers the run adds a recovery attempt.
        """
        import sqlalchemy as sa

        with system_database(self.db_url) as (connection, schema):
            status, app_version, attempts = connection.execute(
                sa.text(
                    f'SELECT status, application_version, recovery_attempts FROM {schema}workflow_status '
                    'WHERE workflow_uuid = :id'
                ),
                {'id': self.workflow_id},
            ).one()
            steps = connection.execute(
                sa.text(
                    f'SELECT function_name FROM {schema}operation_outputs '
                    'WHERE workflow_uuid = :id ORDER BY function_id'
                ),
                {'id': self.workflow_id},
            ).all()
        return status, app_version, int(attempts), [name for (name,) in steps]

    def stop_all(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def deploys(dbos_config: Callable[..., dict[str, Any]], tmp_path: Path) -> Iterator[Deploys]:
    started = Deploys(dbos_config()['system_database_url'], tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def test_version_2_with_new_instructions_and_a_new_tool_resumes_the_run(deploys: Deploys) -> None:
    deploys.start_on_v1_and_kill()
    assert deploys.journal() == ('PENDING', 'release-1', 1, ['deploy.model_request', 'deploy.tool_call.agent.add'])

    outcome = deploys.run('v2', 'recover')

    # The request in flight at the kill is made again, by version 2 with its instructions and tools (DBOS journals a
    # step's result, not its inputs); the first request and the tool call completed, and are not made again.
    assert outcome == {'status': 'SUCCESS', 'output': V2_OUTPUT}
    assert deploys.counter.counts() == {**V1_AT_THE_KILL, 'v2:worker_started': 1, 'v2:model_request:1': 1}
    assert deploys.journal() == (
        'SUCCESS',
        'release-1',
        2,
        ['deploy.model_request', 'deploy.tool_call.agent.add', 'deploy.model_request'],
    )


def test_version_2_without_a_tool_the_run_called_stops_and_rolling_back_resumes_it(deploys: Deploys) -> None:
    deploys.start_on_v1_and_kill()
    at_the_kill = deploys.journal()
    assert at_the_kill == ('PENDING', 'release-1', 1, ['deploy.model_request', 'deploy.tool_call.agent.add'])

    broken = deploys.background('v2-without-add', 'recover')
    # Version 2 replays the first request, whose response calls `add`; it has no such tool (PydanticAI answers the
    # call with a retry prompt, in workflow code), so its next step, a model request, finds `add`'s step in its place.
    error = deploys.wait_for_log('v2-without-add', 'journaled the step')
    assert "journaled the step 'deploy.tool_call.agent.add' at step 3" in error
    assert "where this code runs 'deploy.model_request'" in error
    assert 'roll back to the version that started it' in error
    assert 'under a new `application_version`' in error
    # Version 2 recovered the run (an attempt more) and stopped it without a trace in the journal.
    assert deploys.journal() == ('PENDING', 'release-1', 2, at_the_kill[3])
    broken.kill()
    broken.wait()

    outcome = deploys.run('v1', 'recover')

    # Nothing was lost: version 1 recovers the run (an ERROR run it would not), and only the request in flight at
    # the kill is made again.
    assert outcome == {'status': 'SUCCESS', 'output': V1_OUTPUT}
    assert deploys.counter.counts() == {
        **V1_AT_THE_KILL,
        'v2-without-add:worker_started': 1,
        'v1:worker_started': 2,
        'v1:model_request:1': 2,
    }


def test_version_2_under_a_new_application_version_leaves_the_run_to_version_1(deploys: Deploys) -> None:
    deploys.start_on_v1_and_kill()
    at_the_kill = deploys.journal()

    # A breaking change deployed as DBOS recommends: under its own application version, beside version 1's workers.
    new = deploys.run('v2-without-add', 'new-run', app_version='release-2')

    assert new == {'output': "42 (v2-without-add 2.0.0, tools ['multiply'], instructions 'Multiply.')"}
    # Version 2's worker ran a run of its own and did not recover version 1's (no recovery attempt more).
    assert deploys.journal() == at_the_kill
    outcome = deploys.run('v1', 'recover')
    assert outcome == {'status': 'SUCCESS', 'output': V1_OUTPUT}
    assert deploys.counter.counts() == {
        **V1_AT_THE_KILL,
        'v2-without-add:worker_started': 1,
        'v2-without-add:model_request:0': 1,
        'v2-without-add:tool:multiply': 1,
        'v2-without-add:model_request:1': 1,
        'v1:worker_started': 2,
        'v1:model_request:1': 2,
    }
