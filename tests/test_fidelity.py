"""Recovery fidelity: what a recovered run returns equals what the uninterrupted run returned, value for value.

The program (`fidelity.py`) runs on each engine, in driver subprocesses (`engines/<engine>_fidelity.py`), uninterrupted
(the reference) and on each recovery path: DBOS runs the same workflow id again with `SetWorkflowID`, recovers after
a SIGKILL in the middle of a tool call, and hands results out through its own handle; Prefect retries a user flow
that fails after the agent's run, and reruns a flow run whose process was SIGKILLed; Temporal finishes a workflow on
another worker after the first was SIGKILLed mid-activity, and a `Replayer` replays each history. Each path also
runs two runs of the agent started together in one workflow or flow (deps R1 and R2, the same tool-call ids). Every
engine runs in both forms: the wrapper, and the capability form (an agent with `<Engine>Durability` whose own `run()`
the program's workflow or flow calls), a summary line each.

Each recovered result is compared with the reference field by field (`fidelity.compare`): result class, output
class and value, the message history as passed, the messages the run made, usage; and the units each path ran are
counted at their source, so a completed unit that ran again shows. A difference fails the test; every comparison is
also counted into the session summary, one line per engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fidelity
import pytest
from _fidelity_runs import (
    EVERY_RUN,
    after_one_kill,
    check_units,
    compare_paths,
    judge,
    temporal_capability_fidelity,  # noqa: F401  (a fixture; the others come from conftest.py)
)
from fidelity import PAIR, SINGLE, compare, own_data

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


# ---- DBOS ---------------------------------------------------------------------------------------------------------


DBOS_BACKENDS = ['sqlite', 'postgres', 'sqlite capability', 'postgres capability']
"""Each backend in both forms: `DBOSAgent`, and an agent with `DBOSDurability` run in the program's own workflows."""


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_same_workflow_id_run_again_returns_the_same_result(backend: str, dbos_fidelity: Any) -> None:
    report = dbos_fidelity(backend)
    comparison = compare_paths(report, 'reference', 'same_id', same_run=True)
    comparison.check('units run by the run with the same id', 0, report['same_id:units'])
    judge(f'dbos-{backend}', comparison)


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_result_read_through_its_handle_is_the_typed_result(backend: str, dbos_fidelity: Any) -> None:
    """`await (await DBOS.retrieve_workflow_async(id)).get_result()` gives the run's result, as DBOS users read it."""
    report = dbos_fidelity(backend)
    judge(f'dbos-{backend}', compare_paths(report, 'reference', 'retrieved', same_run=True))


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_pair_in_one_workflow_run_again_returns_the_same_results(backend: str, dbos_fidelity: Any) -> None:
    report = dbos_fidelity(backend)
    comparison = compare_paths(report, 'pair_reference', 'pair_same_id', same_run=True)
    comparison.check('units run by the pair workflow run again', 0, report['pair_same_id:units'])
    check_units(comparison, 'uninterrupted runs', fidelity.expected_calls(EVERY_RUN), report['in_process_counter'])
    judge(f'dbos-{backend}', comparison)


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_run_recovered_after_sigkill_mid_tool(backend: str, dbos_fidelity: Any) -> None:
    """Recovered in a new process, and read by running the same workflow id again: the reference's result."""
    report = dbos_fidelity(backend)
    comparison = compare_paths(report, 'reference', 'recovered', same_run=False)
    check_units(comparison, 'the killed process and the recovery', after_one_kill(), report['crash_counter'])
    judge(f'dbos-{backend}', comparison)


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_run_recovered_after_sigkill_read_through_its_handle(backend: str, dbos_fidelity: Any) -> None:
    """After a crash the caller is gone: the recovered result, read through DBOS's handle, is the same result."""
    report = dbos_fidelity(backend)
    comparison = compare_paths(report, 'recovered', 'recovered_handle', same_run=True)
    judge(f'dbos-{backend}', comparison)


@pytest.mark.parametrize('backend', DBOS_BACKENDS)
def test_dbos_pair_in_one_workflow_recovered_after_sigkill_keeps_each_runs_data(
    backend: str, dbos_fidelity: Any
) -> None:
    report = dbos_fidelity(backend)
    judge(f'dbos-{backend}', compare_paths(report, 'pair_reference', 'pair_recovered', same_run=False))


# ---- Prefect ------------------------------------------------------------------------------------------------------


PREFECT_FORMS = {'prefect': 'prefect_fidelity', 'prefect capability': 'prefect_capability_fidelity'}
"""Both forms: `PrefectAgent` (each run a subflow), and an agent with `PrefectDurability` run in the user flows."""


@pytest.fixture(params=sorted(PREFECT_FORMS))
def prefect_report(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """The engine's label in the summary, and the reports of that form."""
    return request.param, request.getfixturevalue(PREFECT_FORMS[request.param])


def _reused_whole(engine: str) -> bool:
    """Whether a retry reads the run's result back whole (the wrapper: its subflow's persisted result); in the
    capability form the retry runs the flow code again, every unit loaded, so the run's own stamps are the retry's."""
    return engine == 'prefect'


def test_prefect_retried_flow_reuses_the_finished_run_as_it_was(prefect_report: tuple[str, dict[str, Any]]) -> None:
    """A user flow with retries=1 fails after the agent's run; its retry gets the first attempt's result back."""
    engine, report = prefect_report
    comparison = compare_paths(report, 'retried_reference', 'retried', same_run=_reused_whole(engine))
    comparison.check('flow attempts', 2, report['retried:attempts'])
    comparison.check('units run by the retry', 0, report.get('retried:units'))
    judge(engine, comparison)


def test_prefect_pair_in_one_retried_flow_keeps_each_runs_data(prefect_report: tuple[str, dict[str, Any]]) -> None:
    engine, report = prefect_report
    comparison = compare_paths(report, 'pair_retried_reference', 'pair_retried', same_run=_reused_whole(engine))
    comparison.check('flow attempts', 2, report['pair_retried:attempts'])
    comparison.check('units run by the retry', 0, report.get('pair_retried:units'))
    check_units(comparison, 'uninterrupted runs', fidelity.expected_calls(EVERY_RUN), report['in_process_counter'])
    judge(engine, comparison)


def test_prefect_flow_run_rerun_after_sigkill_mid_tool(prefect_report: tuple[str, dict[str, Any]]) -> None:
    engine, report = prefect_report
    comparison = compare_paths(report, 'retried_reference', 'recovered', same_run=False)
    check_units(comparison, 'the killed process and the rerun', after_one_kill(), report['crash_counter'])
    judge(engine, comparison)


def test_prefect_pair_in_one_flow_rerun_after_sigkill_keeps_each_runs_data(
    prefect_report: tuple[str, dict[str, Any]],
) -> None:
    engine, report = prefect_report
    judge(engine, compare_paths(report, 'pair_retried_reference', 'pair_recovered', same_run=False))


# ---- Temporal -----------------------------------------------------------------------------------------------------


TEMPORAL_FORMS = {'temporal': 'temporal_fidelity', 'temporal capability': 'temporal_capability_fidelity'}
"""Both forms: a `TemporalAgent`, and an agent with `TemporalDurability` run through its own `run()` in a workflow."""


@pytest.fixture(params=sorted(TEMPORAL_FORMS))
def temporal_report(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    """The engine's label in the summary, and the reports of that form."""
    return request.param, request.getfixturevalue(TEMPORAL_FORMS[request.param])


def test_temporal_worker_killed_mid_activity_and_another_finishes_the_run(
    temporal_report: tuple[str, dict[str, Any]],
) -> None:
    engine, report = temporal_report
    comparison = compare_paths(report, 'reference', 'recovered', same_run=False)
    check_units(comparison, 'the killed worker and the one that finished', after_one_kill((SINGLE,)), report['counter'])
    judge(engine, comparison)


def test_temporal_replay_returns_exactly_what_the_workflow_returned(
    temporal_report: tuple[str, dict[str, Any]],
) -> None:
    """A `Replayer` replays the killed run's history and the reference's: the same values, timestamps included."""
    engine, report = temporal_report
    comparison = compare_paths(report, 'recovered', 'replayed', same_run=True)
    comparison.add(compare_paths(report, 'reference', 'replayed_reference', same_run=True))
    comparison.check('units run by the replays', 0, report['replay:units'])
    judge(engine, comparison)


def test_temporal_pair_in_one_workflow_killed_mid_activity_keeps_each_runs_data(
    temporal_report: tuple[str, dict[str, Any]],
) -> None:
    engine, report = temporal_report
    comparison = compare_paths(report, 'pair_reference', 'pair_recovered', same_run=False)
    check_units(comparison, 'the killed worker and the one that finished', after_one_kill(PAIR), report['pair_counter'])
    judge(engine, comparison)


def test_temporal_pair_replay_returns_exactly_what_the_workflow_returned(
    temporal_report: tuple[str, dict[str, Any]],
) -> None:
    engine, report = temporal_report
    comparison = compare_paths(report, 'pair_recovered', 'pair_replayed', same_run=True)
    comparison.add(compare_paths(report, 'pair_reference', 'pair_replayed_reference', same_run=True))
    comparison.check('units run by the replays', 0, report['pair_replay:units'])
    judge(engine, comparison)
