"""Bad input is refused up front: a clear error that names the fix, and nothing journaled or half-run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import _summary
import pytest

ENGINES_DIR = Path(__file__).parent / 'engines'


@pytest.fixture(scope='module')
def dbos_table(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp('misuse')
    out = tmp / 'dbos.json'
    done = subprocess.run(
        [sys.executable, str(ENGINES_DIR / 'dbos_misuse.py'), f'sqlite:///{tmp / "misuse.sqlite"}', str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


DBOS_CASES = [
    'missing agent name',
    'malformed agent name',
    'duplicate agent name',
    'toolset without id',
    'duplicate toolset id',
    'dynamic toolset without id',
    'reserved model key',
    'unknown parallel execution mode',
    'unknown step config key',
    'agent created after launch',
    'deps that cannot be serialized',
    'unregistered model instance',
    'toolsets at run time',
    'event handler at run time',
    'output type at run time',
    'capabilities at run time',
    'headers in run model settings',
    'run_stream inside a workflow',
    'run_stream_events inside a workflow',
    'override of the model inside a workflow',
]


def test_the_driver_tried_every_case(dbos_table: list[dict[str, Any]]) -> None:
    assert [case['case'] for case in dbos_table] == DBOS_CASES


@pytest.mark.parametrize('name', DBOS_CASES)
def test_case_is_refused_clearly_and_journals_nothing(name: str, dbos_table: list[dict[str, Any]]) -> None:
    case = next(case for case in dbos_table if case['case'] == name)
    assert case['error_type'] is not None, f'{case["case"]}: no error was raised'
    assert case['names_fix'], f'{case["case"]}: the error does not name the fix: {case["message"]}'
    assert case['journaled'] == 0, f'{case["case"]}: {case["journaled"]} records were journaled'
    _summary.add('dbos-sqlite', 'bad inputs refused')


# --- Prefect ----------------------------------------------------------------------------------------------------

PREFECT_CASES = [
    'missing agent name',
    'malformed agent name',
    'toolset without id',
    'duplicate toolset id',
    'dynamic toolset without id',
    'reserved model key',
    'unknown parallel execution mode',
    'unknown task config key',
    'negative task retries',
    'zero task timeout',
    'cache policy that is not a CachePolicy',
    'task config that is not a dict',
    'bad task config of one tool',
    'deps that cannot be serialized',
    'unregistered model instance',
    'unregistered model instance inside a flow',
    'toolsets at run time',
    'event handler at run time',
    'output type at run time',
    'capabilities at run time',
    'headers in run model settings',
    'iter inside a flow',
    'run_stream_events inside a flow',
]
CONTROL = 'a valid run (control)'


@pytest.fixture(scope='module')
def prefect_table(tmp_path_factory: pytest.TempPathFactory, prefect_api_url: str) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp('misuse') / 'prefect.json'
    done = subprocess.run(
        [sys.executable, str(ENGINES_DIR / 'prefect_misuse.py'), prefect_api_url, str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_the_prefect_driver_tried_every_case(prefect_table: list[dict[str, Any]]) -> None:
    assert [case['case'] for case in prefect_table] == [*PREFECT_CASES, CONTROL]


def test_the_prefect_journal_count_sees_a_valid_run(prefect_table: list[dict[str, Any]]) -> None:
    """The control: a valid run journals records the count sees, so a zero for a refused case means something."""
    control = next(case for case in prefect_table if case['case'] == CONTROL)
    assert control['error_type'] is None, control['message']
    assert control['journaled'] > 0


@pytest.mark.parametrize('name', PREFECT_CASES)
def test_prefect_case_is_refused_clearly_and_journals_nothing(name: str, prefect_table: list[dict[str, Any]]) -> None:
    case = next(case for case in prefect_table if case['case'] == name)
    assert case['error_type'] is not None, f'{case["case"]}: no error was raised'
    assert case['names_fix'], f'{case["case"]}: the error does not name the fix: {case["message"]}'
    assert case['journaled'] == 0, f'{case["case"]}: {case["journaled"]} records were journaled'
    _summary.add('prefect', 'bad inputs refused')
