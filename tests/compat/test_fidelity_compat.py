"""Ours against PydanticAI 2.68's `durable_exec`: the recovery-fidelity program, run by both on the same engines.

2.68's deprecated wrappers (`DBOSAgent`, `PrefectAgent`, `TemporalAgent`) run the program of `fidelity.py` on the
in-process paths, in drivers of this folder: DBOS runs a workflow id again with `SetWorkflowID` and reads the result
through DBOS's handle; Prefect retries a user flow after the agent's run; Temporal runs the workflows and replays them.
Our results are the ones `test_fidelity.py` checks (the session's `*_fidelity` fixtures, run once). On each path both
implementations must return equal results: an `AgentRunResult` with the same output class and value, the same
message history as passed, the same messages (without the stamps of each run's clock and ids: these are two runs),
the same usage. A difference that is 2.68's bug is a strict xfail, with the reason (on Temporal, 2.68 turns the date a
tool returned into a str).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fidelity
import pytest
from _fidelity_runs import WAIT
from durable_core.testing import PreloadedPython
from fidelity import PAIR, Comparison, compare, own_data

COMPAT_DIR = Path(__file__).parent


def _theirs(script: str, *args: str, directory: Path) -> dict[str, Any]:
    # PydanticAI and the engines preloaded, neither implementation: the program imports the one it runs.
    done = PreloadedPython.shared(PreloadedPython.LIBRARY_MODULES).run(
        [sys.executable, str(COMPAT_DIR / script), *args, str(directory)],
        capture_output=True,
        text=True,
        timeout=WAIT * 2,
    )
    assert done.returncode == 0, f'{script} failed:\n{done.stderr[-4000:]}'
    return fidelity.loads((directory / 'inprocess.report').read_text())


def _same(ours: dict[str, Any], theirs: dict[str, Any], key: str) -> Comparison:
    """Ours and 2.68's results at `key` are equal (one result, or a pair whose runs also keep their own data)."""
    comparison = Comparison()
    for who, report in (('ours', ours), ('2.68', theirs)):
        value = report.get(key)
        if value is None or (isinstance(value, dict) and 'error' in value):
            comparison.differences.append(f'{who} {key}: {"not reported" if value is None else value["error"]}')
    if comparison.differences:
        return comparison
    pairs = (
        zip(PAIR, ours[key], theirs[key], strict=True)
        if isinstance(ours[key], list)
        else [('', ours[key], theirs[key])]
    )
    for requester, mine, other in pairs:
        label = f'{key} {requester}'.strip()
        comparison.add(compare(mine, other, same_run=False, label=label, other_implementation=True))
        if requester:
            comparison.add(own_data(other, requester))
    return comparison


def _assert_same(comparison: Comparison) -> None:
    assert comparison.compared > 0
    assert not comparison.differences, '\n'.join(comparison.differences)


@pytest.fixture(scope='module')
def dbos_theirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp('fidelity-pai-dbos')
    return _theirs('dbos_pai_fidelity.py', 'wrapper', f'sqlite:///{directory / "pai.sqlite"}', directory=directory)


@pytest.mark.parametrize('key', ['reference', 'same_id', 'retrieved', 'pair_reference', 'pair_same_id'])
def test_dbos_same_results_as_pydantic_ai(key: str, dbos_fidelity: Callable[[str], Any], dbos_theirs: Any) -> None:
    """SQLite: the first run, the same workflow id run again, the result through DBOS's handle; single and pair."""
    _assert_same(_same(dbos_fidelity('sqlite'), dbos_theirs, key))


@pytest.fixture(scope='module')
def prefect_theirs(tmp_path_factory: pytest.TempPathFactory, prefect_api_url: str) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp('fidelity-pai-prefect')
    return _theirs('prefect_pai_fidelity.py', 'wrapper', prefect_api_url, str(directory / 'home'), directory=directory)


@pytest.mark.parametrize('key', ['retried_reference', 'retried', 'pair_retried_reference', 'pair_retried'])
def test_prefect_same_results_as_pydantic_ai(
    key: str, prefect_fidelity: dict[str, Any], prefect_theirs: dict[str, Any]
) -> None:
    """A user flow's first attempt, and its retry after a failure that follows the agent's run; single and pair."""
    _assert_same(_same(prefect_fidelity, prefect_theirs, key))


@pytest.fixture(scope='module')
def temporal_theirs(tmp_path_factory: pytest.TempPathFactory, temporal_dev_server: Any) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp('fidelity-pai-temporal')
    return _theirs('temporal_pai_fidelity.py', 'pai', 'wrapper', temporal_dev_server.target, directory=directory)


PAI_TEMPORAL_TOOL_DATES = pytest.mark.xfail(
    strict=True,
    reason="2.68's bug: its TemporalAgent hands a tool's return to the workflow as plain JSON, so the date in the "
    "tool's result comes back as a str in all_messages() (the plain agent, and ours, keep the date)",
)


@pytest.mark.parametrize(
    'key',
    [
        pytest.param(key, marks=PAI_TEMPORAL_TOOL_DATES)
        for key in ('reference', 'replayed_reference', 'pair_reference', 'pair_replayed_reference')
    ],
)
def test_temporal_same_results_as_pydantic_ai(
    key: str, temporal_fidelity: dict[str, Any], temporal_theirs: dict[str, Any]
) -> None:
    """A workflow's run, and a `Replayer`'s replay of its history; single and pair."""
    _assert_same(_same(temporal_fidelity, temporal_theirs, key))
