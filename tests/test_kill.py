"""Kill trials: a worker is SIGKILLed at a random point of a 5-step run, restarted, and must finish it.

For each trial the test reads, right after the kill, which units the engine had checkpointed. After
recovery it asserts: the right output; each checkpointed unit ran exactly once (counted at its
source); no unit ran more than twice; nothing is left pending. `pytest --soak` runs 100 trials.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import _summary
import pytest
from durable_core.testing import DurableCallCounter

WORKER = Path(__file__).parent / 'engines' / 'dbos_kill_worker.py'
UNITS = ['model:1', 'tool:a', 'model:2', 'tool:b', 'model:3']
RUN_SECONDS = len(UNITS) * 0.15


def _checkpointed(db_url: str, workflow_id: str) -> list[str]:
    """Names of the steps DBOS has committed for the workflow."""
    import sqlalchemy as sa

    url = db_url.replace('postgresql://', 'postgresql+psycopg://', 1)
    schema = 'dbos.' if url.startswith('postgresql') else ''
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(f'SELECT function_name FROM {schema}operation_outputs WHERE workflow_uuid = :id'),
                {'id': workflow_id},
            ).all()
            return [name for (name,) in rows]
    finally:
        engine.dispose()


def _pending(db_url: str) -> int:
    import sqlalchemy as sa

    url = db_url.replace('postgresql://', 'postgresql+psycopg://', 1)
    schema = 'dbos.' if url.startswith('postgresql') else ''
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(f"SELECT count(*) FROM {schema}workflow_status WHERE status IN ('PENDING', 'ENQUEUED')")
            ).scalar_one()
    finally:
        engine.dispose()


def _start_counts(counter: DurableCallCounter) -> Counter[str]:
    starts: Counter[str] = Counter()
    for name, count in counter.counts().items():
        starts[name.removeprefix('start:').rsplit(':', 1)[0]] += count
    return starts


def _order_of_checkpoints(names: list[str]) -> list[str]:
    """Map checkpointed step names, in step order, to the unit labels the worker records."""
    labels: list[str] = []
    models = tools = 0
    for name in names:
        if name.endswith('.model_request'):
            models += 1
            labels.append(f'model:{models}')
        elif name.endswith('.fetch'):
            tools += 1
            labels.append('tool:a' if tools == 1 else 'tool:b')
    return labels


def _worker(mode: str, db_url: str, counter: Path, workflow_id: str) -> list[str]:
    return [sys.executable, str(WORKER), mode, db_url, str(counter), workflow_id]


def _trial(db_url: str, tmp: Path, rng: random.Random) -> dict[str, Any]:
    workflow_id = f'kill-{uuid.uuid4()}'
    counter_file = tmp / f'{workflow_id}.log'
    counter = DurableCallCounter(counter_file)
    worker = subprocess.Popen(_worker('start', db_url, counter_file, workflow_id), stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while counter.total() == 0:  # the worker is up and its first unit started
            assert time.monotonic() < deadline, 'the worker did not start in time'
            assert worker.poll() is None, 'the worker ended before it was killed'
            time.sleep(0.02)
        time.sleep(rng.uniform(0, RUN_SECONDS))
        killed_mid_run = worker.poll() is None
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait()
    committed = _order_of_checkpoints(_checkpointed(db_url, workflow_id))
    done = subprocess.run(
        _worker('recover', db_url, counter_file, workflow_id), capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    starts = _start_counts(counter)
    assert outcome['output'] == 'a=1, b=2'
    for unit in committed:
        assert starts[unit] == 1, f'{unit} was checkpointed before the kill, yet ran {starts[unit]} times'
    assert all(count <= 2 for count in starts.values()), starts
    assert set(starts) == set(UNITS)
    return {
        'killed_mid_run': killed_mid_run,
        'committed_before_kill': len(committed),
        'reruns': sum(starts.values()) - 5,
    }


def _trials(request: pytest.FixtureRequest) -> int:
    return 100 if request.config.getoption('--soak') else 10


@pytest.mark.parametrize('backend', ['sqlite', 'postgres'])
def test_kill_trials(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if backend == 'sqlite':
        db_url = f'sqlite:///{tmp_path / "kill.sqlite"}'
    else:
        db_url = request.getfixturevalue('postgres_server').create_database(f'kill_{uuid.uuid4().hex[:8]}')
    rng = random.Random(20261126)
    results = [_trial(db_url, tmp_path, rng) for _ in range(_trials(request))]
    assert _pending(db_url) == 0
    # Most kills must land mid-run, or the trials prove little.
    assert sum(result['killed_mid_run'] for result in results) >= len(results) // 2
    _summary.put(f'dbos-{backend}', 'kills survived', f'{len(results)}/{len(results)}')
    _summary.add(f'dbos-{backend}', 'duplicate executions', 0)


def test_two_workers_share_postgres_and_the_survivor_finishes_the_run(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    db_url = request.getfixturevalue('postgres_server').create_database(f'shared_{uuid.uuid4().hex[:8]}')
    workflow_id = f'shared-{uuid.uuid4()}'
    counter_file = tmp_path / 'calls.log'
    counter = DurableCallCounter(counter_file)
    standby = subprocess.Popen(_worker('standby', db_url, counter_file, workflow_id), stdout=subprocess.PIPE, text=True)
    first = subprocess.Popen(_worker('start', db_url, counter_file, workflow_id), stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while _start_counts(counter)['tool:b'] == 0:
            assert time.monotonic() < deadline, 'the first worker did not reach tool:b in time'
            assert first.poll() is None, 'the first worker ended before it was killed'
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        committed = _order_of_checkpoints(_checkpointed(db_url, workflow_id))
        Path(str(counter_file) + '.resume').touch()  # an operator, or a watchdog, hands the run over
        out, _ = standby.communicate(timeout=240)
    finally:
        for process in (first, standby):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert standby.returncode == 0
    outcome = json.loads(out.strip().splitlines()[-1])
    assert outcome['output'] == 'a=1, b=2'
    assert outcome['pid'] == standby.pid
    starts = _start_counts(counter)
    for unit in committed:
        assert starts[unit] == 1, unit
    survivor_units = {
        name.removeprefix('start:').rsplit(':', 1)[0] for name in counter.counts() if name.endswith(f':{standby.pid}')
    }
    assert 'model:3' in survivor_units  # the survivor finished the run
    assert _pending(db_url) == 0
