"""How the recovery-fidelity suites drive the engines, and how they judge what the drivers report.

Session fixtures run each engine's fidelity drivers (`engines/<engine>_fidelity.py`) once, on the session's servers:
`dbos_fidelity` (a function of the backend and form), `prefect_fidelity`, `temporal_fidelity`, and the capability
form's `prefect_capability_fidelity`, `temporal_capability_fidelity`; each gives a report of pickled observations by
path (see `fidelity.py`) and the call counters of its processes. `tests/conftest.py` imports them (but the last,
which `test_fidelity.py` imports), so `test_fidelity.py` and `compat/` share one run of each. `compare_paths` compares
two reported results, `judge` counts a path into the session summary and fails on any difference.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import _summary
import fidelity
import pytest
from _dbos_db import query_dbos
from durable_core.testing import DurableCallCounter, PreloadedProcess, PreloadedPython
from fidelity import PAIR, SINGLE, Comparison, compare, own_data

ENGINES_DIR = Path(__file__).parent / 'engines'
WAIT = 240.0  # a bound on waiting for a driver, not an assertion on speed
EVERY_RUN = (SINGLE, *PAIR)


# ---- shared by every engine ---------------------------------------------------------------------------------------


def _driver(script: str, *args: str) -> PreloadedProcess:
    return PreloadedPython.shared().popen(
        [sys.executable, str(ENGINES_DIR / script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(process: PreloadedProcess, what: str) -> None:
    _, err = process.communicate(timeout=WAIT * 2)
    assert process.returncode == 0, f'{what} failed:\n{err[-4000:]}'


def _report(directory: Path, mode: str) -> dict[str, Any]:
    return fidelity.loads((directory / f'{mode}.report').read_text())


def _wait_then_kill(process: PreloadedProcess, ready: Callable[[], bool], what: str) -> None:
    """SIGKILL `process` once `ready()`: the held tool calls are under way and the others are journaled."""
    deadline = time.monotonic() + WAIT
    try:
        while not ready():
            assert time.monotonic() < deadline, f'{what}: not in time'
            if process.poll() is not None:
                raise AssertionError(f'{what}: the driver ended first:\n{process.communicate()[1][-4000:]}')
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()


def _held(counter: DurableCallCounter) -> bool:
    """Every run's held tool call has started."""
    counts = counter.counts()
    return all(counts.get(f'tool:{fidelity.HELD_CITY}:{requester}', 0) > 0 for requester in EVERY_RUN)


def _failure(report: dict[str, Any], key: str) -> str | None:
    value = report.get(key)
    if value is None:
        return f'{key}: not reported'
    if isinstance(value, dict) and 'error' in value:
        return f'{key} failed: {value["error"]}'
    return None


def compare_paths(report: dict[str, Any], expected: str, got: str, *, same_run: bool) -> Comparison:
    """Compare the result (or pair of results) at `got` with the one at `expected`; a pair's runs keep their data."""
    comparison = Comparison()
    for key in (expected, got):
        failure = _failure(report, key)
        if failure:
            comparison.differences.append(failure)
    if comparison.differences:
        return comparison
    if isinstance(report[expected], list):  # a pair: one result per requester, in order
        comparison.check(f'{got}: runs', len(PAIR), len(report[got]))
        for requester, want, have in zip(PAIR, report[expected], report[got], strict=False):
            comparison.add(compare(want, have, same_run=same_run, label=f'{got} {requester}'))
            comparison.add(own_data(have, requester))
    else:
        comparison.add(compare(report[expected], report[got], same_run=same_run, label=got))
    return comparison


def check_units(comparison: Comparison, what: str, expected: dict[str, int], counter: DurableCallCounter) -> None:
    comparison.check(
        f'units run, counted at their source ({what})',
        dict(sorted(expected.items())),
        dict(sorted(counter.counts().items())),
    )


def after_one_kill(requesters: tuple[str, ...] = EVERY_RUN) -> dict[str, int]:
    """Each run's units once, but its held tool call twice: cut off by the kill, then run again."""
    expected = fidelity.expected_calls(requesters)
    expected.update({f'tool:{fidelity.HELD_CITY}:{requester}': 2 for requester in requesters})
    return expected


def judge(engine: str, comparison: Comparison) -> None:
    """Count the path into the summary, then fail on any difference."""
    _summary.fidelity(engine, comparison.compared, len(comparison.differences))
    assert not comparison.differences, '\n'.join(comparison.differences)


# ---- DBOS -----------------------------------------------------------------------------------------------------------


def _committed_tool_steps(db_url: str) -> int:
    """Tool-call steps DBOS has committed, in every workflow of the database (runs may be child workflows)."""
    ((count,),) = query_dbos(
        db_url,
        "SELECT count(*) FROM {schema}operation_outputs WHERE function_name LIKE '%lookup_fare%'",
        while_launching=[(0,)],
    )
    return count


@pytest.fixture(scope='session')
def dbos_fidelity(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Each backend's reports, made on first use: `inprocess`, and `recover` after the `crash` process is killed.

    The key is the backend (`sqlite`, `postgres`), with ` capability` for the capability form (`DBOSDurability`).
    """
    cache: dict[str, dict[str, Any]] = {}

    def database(backend: str, tmp: Path, name: str) -> str:
        if backend == 'sqlite':
            return f'sqlite:///{tmp / f"{name}.sqlite"}'
        return request.getfixturevalue('postgres_server').create_database(f'fidelity_{name}_{uuid.uuid4().hex[:8]}')

    def reports(key: str) -> dict[str, Any]:
        backend, _, form = key.partition(' ')
        form = form or 'wrapper'
        if key not in cache:
            tmp = tmp_path_factory.mktemp(f'fidelity-dbos-{backend}-{form}')
            in_process_dir, crash_dir = tmp / 'inprocess', tmp / 'crash'
            in_process_dir.mkdir()
            crash_dir.mkdir()
            crash_db = database(backend, tmp, 'crash')
            in_process = _driver(
                'dbos_fidelity.py', 'inprocess', database(backend, tmp, 'inprocess'), str(in_process_dir), form
            )
            counter = DurableCallCounter(crash_dir / 'calls.log')
            try:
                crash = _driver('dbos_fidelity.py', 'crash', crash_db, str(crash_dir), form)
                _wait_then_kill(
                    crash,
                    lambda: _held(counter) and _committed_tool_steps(crash_db) >= len(EVERY_RUN),
                    'the held tool calls starting, the others committed',
                )
                _finish(_driver('dbos_fidelity.py', 'recover', crash_db, str(crash_dir), form), 'the recovery')
            finally:
                _finish(in_process, 'the in-process paths')
            cache[key] = {
                **_report(in_process_dir, 'inprocess'),
                **_report(crash_dir, 'recover'),
                'in_process_counter': DurableCallCounter(in_process_dir / 'calls.log'),
                'crash_counter': counter,
            }
        return cache[key]

    return reports


# ---- Prefect --------------------------------------------------------------------------------------------------------


async def _completed_tool_tasks(agent_name: str) -> int:
    """The agent's tool-call task runs Prefect has completed (their results persisted), read through the client."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        TaskRunFilter,
        TaskRunFilterName,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    async with get_client() as client:
        runs = await client.read_task_runs(
            task_run_filter=TaskRunFilter(
                name=TaskRunFilterName(like_=f'{agent_name}.tool_call'),
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.COMPLETED])),
            )
        )
    return len(runs)


@pytest.fixture(scope='session')
def prefect_fidelity(tmp_path_factory: pytest.TempPathFactory, prefect_api_url: str) -> dict[str, Any]:
    """The reports: `inprocess` (the retried flows), and `rerun` after the `start` process is killed mid-tool."""
    return _prefect_reports(tmp_path_factory, prefect_api_url, 'wrapper')


@pytest.fixture(scope='session')
def prefect_capability_fidelity(tmp_path_factory: pytest.TempPathFactory, prefect_api_url: str) -> dict[str, Any]:
    """The same reports in the capability form: an agent with `PrefectDurability`, run in the user flows."""
    return _prefect_reports(tmp_path_factory, prefect_api_url, 'capability')


def _prefect_reports(tmp_path_factory: pytest.TempPathFactory, prefect_api_url: str, form: str) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp(f'fidelity-prefect-{form}')
    agent_name = 'fidelity' if form == 'wrapper' else 'fidelity_capability'  # the task names the kill waits for
    in_process_dir, crash_dir = tmp / 'inprocess', tmp / 'crash'
    in_process_dir.mkdir()
    crash_dir.mkdir()

    def driver(mode: str, directory: Path) -> PreloadedProcess:
        return _driver('prefect_fidelity.py', mode, prefect_api_url, str(directory / 'home'), str(directory), form)

    in_process = driver('inprocess', in_process_dir)
    counter = DurableCallCounter(crash_dir / 'calls.log')
    rerun = driver('rerun', crash_dir)  # started alongside, so its imports overlap the first run
    try:
        _wait_then_kill(
            driver('start', crash_dir),
            lambda: _held(counter) and asyncio.run(_completed_tool_tasks(agent_name)) >= len(EVERY_RUN),
            'the held tool calls starting, the others completed',
        )
        (crash_dir / 'resume').touch()
        _finish(rerun, 'the rerun')
    finally:
        if rerun.poll() is None:
            rerun.kill()
            rerun.wait()
        _finish(in_process, 'the retried flows')
    return {
        **_report(in_process_dir, 'inprocess'),
        **_report(crash_dir, 'rerun'),
        'in_process_counter': DurableCallCounter(in_process_dir / 'calls.log'),
        'crash_counter': counter,
    }


# ---- Temporal -------------------------------------------------------------------------------------------------------
#
# One worker serves while a standby waits, imports done. The test starts the single run's workflow and the pair's,
# with a `hold` file that keeps every Porto tool call waiting; once they wait and every Lisbon call's activity has
# completed (read from the history), the serving worker is SIGKILLed, the hold is lifted and the standby serves: the
# server retries the killed activities once their attempt times out, and the standby finishes both workflows. The
# reference workflows then run on the standby, uninterrupted. A `Replayer` (in a subprocess) replays all four
# histories: it must run no unit, and return exactly what each workflow returned.


async def _completed_tool_activities(handle: Any) -> int:
    scheduled: dict[int, str] = {}
    completed = 0
    async for event in handle.fetch_history_events():
        if event.HasField('activity_task_scheduled_event_attributes'):
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.HasField('activity_task_completed_event_attributes'):
            completed += 'lookup_fare' in scheduled[event.activity_task_completed_event_attributes.scheduled_event_id]
    return completed


async def _temporal_paths(target: str, directory: Path, form: str) -> dict[str, Any]:
    from durable_temporal import PydanticAIPlugin
    from temporalio.client import Client

    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    task_queue = f'fidelity-{form}-{uuid.uuid4().hex}'
    prefix = 'Capability' if form == 'capability' else ''  # the workflows of the form (`_temporal_fidelity_workflow`)
    ids = {
        name: f'fidelity-{form}-{name}-{uuid.uuid4().hex[:8]}' for name in ('crash', 'pair-crash', 'ref', 'pair-ref')
    }
    counters = {name: DurableCallCounter(directory / f'{workflow_id}.log') for name, workflow_id in ids.items()}

    def worker(mode: str) -> PreloadedProcess:
        return _driver('temporal_fidelity.py', mode, target, task_queue, str(directory))

    async def start(name: str) -> Any:
        workflow = prefix + ('FidelityPairWorkflow' if name.startswith('pair') else 'FidelityWorkflow')
        # A workflow task cut off by the kill is handed on once its timeout passes: 5 s, not the default 10.
        return await client.start_workflow(
            workflow, id=ids[name], task_queue=task_queue, result_type=str, task_timeout=timedelta(seconds=5)
        )

    async def ready() -> bool:
        held = all(
            counters[name].count(f'tool:{fidelity.HELD_CITY}:{requester}') > 0
            for name, requesters in (('crash', [SINGLE]), ('pair-crash', PAIR))
            for requester in requesters
        )
        return held and [await _completed_tool_activities(handles[name]) for name in handles] == [1, len(PAIR)]

    (directory / 'hold').touch()
    serving, standby = worker('serve'), worker('standby')
    try:
        deadline = time.monotonic() + WAIT
        while not (directory / f'ready.{serving.pid}').exists():
            assert time.monotonic() < deadline, 'the serving worker did not start in time'
            assert serving.poll() is None, 'the serving worker ended before it served'
            await asyncio.sleep(0.05)
        handles = {name: await start(name) for name in ('crash', 'pair-crash')}
        while not await ready():
            assert time.monotonic() < deadline, 'the held tool calls did not start, or the others did not complete'
            assert serving.poll() is None, 'the serving worker ended before it was killed'
            await asyncio.sleep(0.05)
        os.kill(serving.pid, signal.SIGKILL)
        serving.wait()
        (directory / 'hold').unlink()
        (directory / f'resume.{standby.pid}').touch()
        handles.update({name: await start(name) for name in ('ref', 'pair-ref')})
        returned = {
            name: fidelity.loads(await asyncio.wait_for(handle.result(), WAIT)) for name, handle in handles.items()
        }
        before_replay = {name: counter.counts() for name, counter in counters.items()}
    finally:
        for process in (serving, standby):
            if process.poll() is None:
                process.kill()
            process.wait()
    _finish(_driver('temporal_fidelity.py', 'replay', target, task_queue, str(directory), *ids.values()), 'the replay')
    replayed = _report(directory, 'replay')
    report: dict[str, Any] = {}
    for name, key in (('crash', ''), ('pair-crash', 'pair_')):
        reference = name.replace('crash', 'ref')
        report |= {
            f'{key}reference': returned[reference],
            f'{key}recovered': returned[name],
            f'{key}replayed_reference': replayed[ids[reference]],
            f'{key}replayed': replayed[ids[name]],
            f'{key}counter': counters[name],
            f'{key}replay:units': sum(
                counters[workflow].total() - sum(before_replay[workflow].values()) for workflow in (name, reference)
            ),
        }
    return report


@pytest.fixture(scope='session')
def temporal_fidelity(tmp_path_factory: pytest.TempPathFactory, temporal_dev_server: Any) -> dict[str, Any]:
    """The reports of the wrapper form: the workflows run a `TemporalAgent`."""
    directory = tmp_path_factory.mktemp('fidelity-temporal')
    return asyncio.run(_temporal_paths(temporal_dev_server.target, directory, 'wrapper'))


@pytest.fixture(scope='session')
def temporal_capability_fidelity(tmp_path_factory: pytest.TempPathFactory, temporal_dev_server: Any) -> dict[str, Any]:
    """The same reports in the capability form: the workflows run an agent with `TemporalDurability`."""
    directory = tmp_path_factory.mktemp('fidelity-temporal-capability')
    return asyncio.run(_temporal_paths(temporal_dev_server.target, directory, 'capability'))
