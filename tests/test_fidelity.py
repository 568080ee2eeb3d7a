"""Recovery fidelity: what a recovered run returns equals what the uninterrupted run returned, value for value.

The program (`fidelity.py`) runs on each engine, in driver subprocesses (`engines/<engine>_fidelity.py`), uninterrupted
(the reference) and on each recovery path: DBOS runs the same workflow id again with `SetWorkflowID`, recovers after
a SIGKILL in the middle of a tool call, and hands results out through its own handle; Prefect retries a user flow
that fails after the agent's run, and reruns a flow run whose process was SIGKILLed; Temporal finishes a workflow on
another worker after the first was SIGKILLed mid-activity, and a `Replayer` replays each history. Each path also
runs two runs of the agent started together in one workflow or flow (deps R1 and R2, the same tool-call ids).

Each recovered result is compared with the reference field by field (`fidelity.compare`): result class, output
class and value, the message history as passed, the messages the run made, usage; and the units each path ran are
counted at their source, so a completed unit that ran again shows. A difference fails the test; every comparison is
also counted into the session summary, one line per engine.
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
from durable_core.testing import DurableCallCounter
from fidelity import PAIR, SINGLE, Comparison, compare, own_data

ENGINES_DIR = Path(__file__).parent / 'engines'
WAIT = 240.0  # a bound on waiting for a driver, not an assertion on speed
EVERY_RUN = (SINGLE, *PAIR)


# ---- shared by every engine ---------------------------------------------------------------------------------------


def _driver(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ENGINES_DIR / script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(process: subprocess.Popen[str], what: str) -> None:
    _, err = process.communicate(timeout=WAIT * 2)
    assert process.returncode == 0, f'{what} failed:\n{err[-4000:]}'


def _report(directory: Path, mode: str) -> dict[str, Any]:
    return fidelity.loads((directory / f'{mode}.report').read_text())


def _wait_then_kill(process: subprocess.Popen[str], ready: Callable[[], bool], what: str) -> None:
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


def _paths(report: dict[str, Any], expected: str, got: str, *, same_run: bool) -> Comparison:
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


def _units(comparison: Comparison, what: str, expected: dict[str, int], counter: DurableCallCounter) -> None:
    comparison.check(
        f'units run, counted at their source ({what})',
        dict(sorted(expected.items())),
        dict(sorted(counter.counts().items())),
    )


def _after_one_kill(requesters: tuple[str, ...] = EVERY_RUN) -> dict[str, int]:
    """Each run's units once, but its held tool call twice: cut off by the kill, then run again."""
    expected = fidelity.expected_calls(requesters)
    expected.update({f'tool:{fidelity.HELD_CITY}:{requester}': 2 for requester in requesters})
    return expected


def _judge(engine: str, comparison: Comparison) -> None:
    """Count the path into the summary, then fail on any difference."""
    _summary.fidelity(engine, comparison.compared, len(comparison.differences))
    assert not comparison.differences, '\n'.join(comparison.differences)


# ---- the comparison itself ----------------------------------------------------------------------------------------


async def _plain_observation(requester: str = SINGLE) -> dict[str, Any]:
    result = await fidelity.build_agent('fidelity_plain', lambda name: None).run(
        fidelity.PROMPT, **fidelity.run_kwargs(requester)
    )
    return fidelity.loads(fidelity.dumps(fidelity.observe(result)))


async def test_two_plain_runs_compare_equal() -> None:
    """The control: two runs of the plain agent differ in nothing the comparison checks across runs."""
    first, second = await _plain_observation(), await _plain_observation()
    comparison = compare(first, second, same_run=False)
    assert comparison.compared == 6
    assert comparison.differences == []
    assert own_data(second, SINGLE).differences == []
    # Timestamps of the requests a run makes are its own: compared within one durable run only.
    assert compare(first, second, same_run=True).differences != []


def _mutants(observed: dict[str, Any]) -> dict[str, Callable[[dict[str, Any]], None]]:
    from pydantic_ai import BinaryImage
    from pydantic_ai.messages import ModelRequest, ToolReturnPart

    def history_part(messages: list[Any], index: int) -> Any:
        return messages[index].parts[0]

    def output_as_dict(o: dict[str, Any]) -> None:
        o['output'] = o['output'].model_dump(mode='json')

    def image_as_binary_image(o: dict[str, Any]) -> None:
        part = history_part(o['messages'], 0)
        text, image = part.content
        part.content = [text, BinaryImage(data=image.data, media_type=image.media_type)]

    def history_date_as_text(o: dict[str, Any]) -> None:
        part = history_part(o['messages'], 2)
        part.content = {**part.content, 'valid_until': part.content['valid_until'].isoformat()}

    def history_restamped(o: dict[str, Any]) -> None:
        o['messages'][2].timestamp = o['messages'][-1].timestamp

    def tool_date_as_text(o: dict[str, Any]) -> None:
        request = next(
            m
            for m in o['messages'][fidelity.HISTORY_LENGTH :]
            if isinstance(m, ModelRequest) and isinstance(m.parts[0], ToolReturnPart)
        )
        part = request.parts[0]
        part.content = {**part.content, 'valid_until': str(part.content['valid_until'])}

    def response_restamped(o: dict[str, Any]) -> None:
        o['messages'][-2].timestamp = o['messages'][-1].timestamp

    def other_runs_tool_result(o: dict[str, Any]) -> None:
        o['output'] = o['output'].model_copy(update={'fare_requesters': ['R1', 'R1']})

    def usage_changed(o: dict[str, Any]) -> None:
        o['usage'] = o['usage'].__class__(requests=o['usage'].requests + 1)

    return {
        fn.__name__: fn
        for fn in (
            output_as_dict,
            image_as_binary_image,
            history_date_as_text,
            history_restamped,
            tool_date_as_text,
            response_restamped,
            other_runs_tool_result,
            usage_changed,
        )
    }


async def test_the_comparison_sees_each_kind_of_difference() -> None:
    """Each bug the suite exists to catch, planted in a copy of a plain run's result, is a difference."""
    reference = await _plain_observation()
    for name, mutate in _mutants(reference).items():
        mutant = fidelity.loads(fidelity.dumps(reference))
        mutate(mutant)
        assert compare(reference, mutant, same_run=False).differences, f'{name} went unseen'


# ---- DBOS -----------------------------------------------------------------------------------------------------------


def _committed_tool_steps(db_url: str) -> int:
    """Tool-call steps DBOS has committed, in every workflow of the database (runs may be child workflows)."""
    import sqlalchemy as sa

    url = db_url.replace('postgresql://', 'postgresql+psycopg://', 1)
    schema = 'dbos.' if url.startswith('postgresql') else ''
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(f"SELECT count(*) FROM {schema}operation_outputs WHERE function_name LIKE '%lookup_fare%'")
            ).scalar_one()
    except sa.exc.OperationalError:  # no table yet: DBOS is still launching
        return 0
    finally:
        engine.dispose()


@pytest.fixture(scope='session')
def dbos_fidelity(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Each backend's reports, made on first use: `inprocess`, and `recover` after the `crash` process is killed."""
    cache: dict[str, dict[str, Any]] = {}

    def database(backend: str, tmp: Path, name: str) -> str:
        if backend == 'sqlite':
            return f'sqlite:///{tmp / f"{name}.sqlite"}'
        return request.getfixturevalue('postgres_server').create_database(f'fidelity_{name}_{uuid.uuid4().hex[:8]}')

    def reports(backend: str) -> dict[str, Any]:
        if backend not in cache:
            tmp = tmp_path_factory.mktemp(f'fidelity-dbos-{backend}')
            in_process_dir, crash_dir = tmp / 'inprocess', tmp / 'crash'
            in_process_dir.mkdir()
            crash_dir.mkdir()
            crash_db = database(backend, tmp, 'crash')
            in_process = _driver(
                'dbos_fidelity.py', 'inprocess', database(backend, tmp, 'inprocess'), str(in_process_dir)
            )
            counter = DurableCallCounter(crash_dir / 'calls.log')
            try:
                crash = _driver('dbos_fidelity.py', 'crash', crash_db, str(crash_dir))
                _wait_then_kill(
                    crash,
                    lambda: _held(counter) and _committed_tool_steps(crash_db) >= len(EVERY_RUN),
                    'the held tool calls starting, the others committed',
                )
                _finish(_driver('dbos_fidelity.py', 'recover', crash_db, str(crash_dir)), 'the recovery')
            finally:
                _finish(in_process, 'the in-process paths')
            cache[backend] = {
                **_report(in_process_dir, 'inprocess'),
                **_report(crash_dir, 'recover'),
                'in_process_counter': DurableCallCounter(in_process_dir / 'calls.log'),
                'crash_counter': counter,
            }
        return cache[backend]

    return reports


DBOS_BACKENDS = ['sqlite', 'postgres']


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_same_workflow_id_run_again_returns_the_same_result(backend: str, dbos_fidelity: Any) -> None:
    report = dbos_fidelity(backend)
    comparison = _paths(report, 'reference', 'same_id', same_run=True)
    comparison.check('units run by the run with the same id', 0, report['same_id:units'])
    _judge(f'dbos-{backend}', comparison)


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_result_read_through_its_handle_is_the_typed_result(backend: str, dbos_fidelity: Any) -> None:
    """`await (await DBOS.retrieve_workflow_async(id)).get_result()` gives the run's result, as DBOS users read it."""
    report = dbos_fidelity(backend)
    _judge(f'dbos-{backend}', _paths(report, 'reference', 'retrieved', same_run=True))


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_pair_in_one_workflow_run_again_returns_the_same_results(backend: str, dbos_fidelity: Any) -> None:
    report = dbos_fidelity(backend)
    comparison = _paths(report, 'pair_reference', 'pair_same_id', same_run=True)
    comparison.check('units run by the pair workflow run again', 0, report['pair_same_id:units'])
    _units(comparison, 'uninterrupted runs', fidelity.expected_calls(EVERY_RUN), report['in_process_counter'])
    _judge(f'dbos-{backend}', comparison)


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_run_recovered_after_sigkill_mid_tool(backend: str, dbos_fidelity: Any) -> None:
    """Recovered in a new process, and read by running the same workflow id again: the reference's result."""
    report = dbos_fidelity(backend)
    comparison = _paths(report, 'reference', 'recovered', same_run=False)
    _units(comparison, 'the killed process and the recovery', _after_one_kill(), report['crash_counter'])
    _judge(f'dbos-{backend}', comparison)


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_run_recovered_after_sigkill_read_through_its_handle(backend: str, dbos_fidelity: Any) -> None:
    """After a crash the caller is gone: the recovered result, read through DBOS's handle, is the same result."""
    report = dbos_fidelity(backend)
    comparison = _paths(report, 'recovered', 'recovered_handle', same_run=True)
    _judge(f'dbos-{backend}', comparison)


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_pair_in_one_workflow_recovered_after_sigkill_keeps_each_runs_data(
    backend: str, dbos_fidelity: Any
) -> None:
    report = dbos_fidelity(backend)
    _judge(f'dbos-{backend}', _paths(report, 'pair_reference', 'pair_recovered', same_run=False))


# ---- Prefect --------------------------------------------------------------------------------------------------------


async def _completed_tool_tasks() -> int:
    """Tool-call task runs Prefect has completed (their results persisted), read through the client."""
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
                name=TaskRunFilterName(like_='fidelity.tool_call'),
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.COMPLETED])),
            )
        )
    return len(runs)


@pytest.fixture(scope='session')
def prefect_fidelity(tmp_path_factory: pytest.TempPathFactory, prefect_api_url: str) -> dict[str, Any]:
    """The reports: `inprocess` (the retried flows), and `rerun` after the `start` process is killed mid-tool."""
    tmp = tmp_path_factory.mktemp('fidelity-prefect')
    in_process_dir, crash_dir = tmp / 'inprocess', tmp / 'crash'
    in_process_dir.mkdir()
    crash_dir.mkdir()

    def driver(mode: str, directory: Path) -> subprocess.Popen[str]:
        return _driver('prefect_fidelity.py', mode, prefect_api_url, str(directory / 'home'), str(directory))

    in_process = driver('inprocess', in_process_dir)
    counter = DurableCallCounter(crash_dir / 'calls.log')
    rerun = driver('rerun', crash_dir)  # started alongside, so its imports overlap the first run
    try:
        _wait_then_kill(
            driver('start', crash_dir),
            lambda: _held(counter) and asyncio.run(_completed_tool_tasks()) >= len(EVERY_RUN),
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


def test_prefect_retried_flow_reuses_the_finished_run_as_it_was(prefect_fidelity: dict[str, Any]) -> None:
    """A user flow with retries=1 fails after the agent's run; its retry gets the first attempt's result back."""
    report = prefect_fidelity
    comparison = _paths(report, 'retried_reference', 'retried', same_run=True)
    comparison.check('flow attempts', 2, report['retried:attempts'])
    comparison.check('units run by the retry', 0, report.get('retried:units'))
    _judge('prefect', comparison)


def test_prefect_pair_in_one_retried_flow_keeps_each_runs_data(prefect_fidelity: dict[str, Any]) -> None:
    report = prefect_fidelity
    comparison = _paths(report, 'pair_retried_reference', 'pair_retried', same_run=True)
    comparison.check('flow attempts', 2, report['pair_retried:attempts'])
    comparison.check('units run by the retry', 0, report.get('pair_retried:units'))
    _units(comparison, 'uninterrupted runs', fidelity.expected_calls(EVERY_RUN), report['in_process_counter'])
    _judge('prefect', comparison)


def test_prefect_flow_run_rerun_after_sigkill_mid_tool(prefect_fidelity: dict[str, Any]) -> None:
    report = prefect_fidelity
    comparison = _paths(report, 'retried_reference', 'recovered', same_run=False)
    _units(comparison, 'the killed process and the rerun', _after_one_kill(), report['crash_counter'])
    _judge('prefect', comparison)


def test_prefect_pair_in_one_flow_rerun_after_sigkill_keeps_each_runs_data(prefect_fidelity: dict[str, Any]) -> None:
    _judge('prefect', _paths(prefect_fidelity, 'pair_retried_reference', 'pair_recovered', same_run=False))


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


async def _temporal_paths(target: str, directory: Path) -> dict[str, Any]:
    from durable_temporal import PydanticAIPlugin
    from temporalio.client import Client

    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    task_queue = f'fidelity-{uuid.uuid4().hex}'
    ids = {name: f'fidelity-{name}-{uuid.uuid4().hex[:8]}' for name in ('crash', 'pair-crash', 'ref', 'pair-ref')}
    counters = {name: DurableCallCounter(directory / f'{workflow_id}.log') for name, workflow_id in ids.items()}

    def worker(mode: str) -> subprocess.Popen[str]:
        return _driver('temporal_fidelity.py', mode, target, task_queue, str(directory))

    async def start(name: str) -> Any:
        workflow = 'FidelityPairWorkflow' if name.startswith('pair') else 'FidelityWorkflow'
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
    return asyncio.run(_temporal_paths(temporal_dev_server.target, tmp_path_factory.mktemp('fidelity-temporal')))


def test_temporal_worker_killed_mid_activity_and_another_finishes_the_run(temporal_fidelity: dict[str, Any]) -> None:
    report = temporal_fidelity
    comparison = _paths(report, 'reference', 'recovered', same_run=False)
    _units(comparison, 'the killed worker and the one that finished', _after_one_kill((SINGLE,)), report['counter'])
    _judge('temporal', comparison)


def test_temporal_replay_returns_exactly_what_the_workflow_returned(temporal_fidelity: dict[str, Any]) -> None:
    """A `Replayer` replays the killed run's history and the reference's: the same values, timestamps included."""
    report = temporal_fidelity
    comparison = _paths(report, 'recovered', 'replayed', same_run=True)
    comparison.add(_paths(report, 'reference', 'replayed_reference', same_run=True))
    comparison.check('units run by the replays', 0, report['replay:units'])
    _judge('temporal', comparison)


def test_temporal_pair_in_one_workflow_killed_mid_activity_keeps_each_runs_data(
    temporal_fidelity: dict[str, Any],
) -> None:
    report = temporal_fidelity
    comparison = _paths(report, 'pair_reference', 'pair_recovered', same_run=False)
    _units(comparison, 'the killed worker and the one that finished', _after_one_kill(PAIR), report['pair_counter'])
    _judge('temporal', comparison)


def test_temporal_pair_replay_returns_exactly_what_the_workflow_returned(temporal_fidelity: dict[str, Any]) -> None:
    report = temporal_fidelity
    comparison = _paths(report, 'pair_recovered', 'pair_replayed', same_run=True)
    comparison.add(_paths(report, 'pair_reference', 'pair_replayed_reference', same_run=True))
    comparison.check('units run by the replays', 0, report['pair_replay:units'])
    _judge('temporal', comparison)
