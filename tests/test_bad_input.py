"""Bad input is refused up front: a clear error that names the fix, and nothing journaled or half-run.

Each engine's driver (`engines/<engine>_misuse.py`) tries its table of cases in one subprocess, once per session:
the cases every engine shares (`engines/_misuse.py`) and its own. Each (engine, case) pair is then one test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _summary
import pytest
from engines._misuse import CONSTRUCTION_CASES, RUN_IN_PROCESS_ACCEPTS, RUN_TIME_CASES, TOOLS_INLINE_ACCEPTS

ENGINES_DIR = Path(__file__).parent / 'engines'
CONTROL = 'a valid run (control)'
OVERSIZE = 'output larger than the payload limit'

IN_PROCESS_RUN_TIME_CASES = [case for case in RUN_TIME_CASES if case not in RUN_IN_PROCESS_ACCEPTS]
CASES = {
    'dbos-sqlite': [
        *[case for case in CONSTRUCTION_CASES if case not in TOOLS_INLINE_ACCEPTS],
        'toolset without id whose tools are steps',
        'duplicate agent name',
        'unknown step config key',
        *IN_PROCESS_RUN_TIME_CASES,
        'run_stream inside a workflow',
        'run_stream_events inside a workflow',
        'override of the model inside a workflow',
        'realtime session inside a workflow',
    ],
    'prefect': [
        *CONSTRUCTION_CASES,
        'duplicate agent name',
        'unknown task config key',
        'negative task retries',
        'zero task timeout',
        'cache policy that is not a CachePolicy',
        'task config that is not a dict',
        'bad task config of one tool',
        *IN_PROCESS_RUN_TIME_CASES,
        'unregistered model instance inside a flow',
        'override of the model inside a flow',
        'iter inside a task',
        'run_stream_events inside a flow',
        'realtime session inside a flow',
    ],
    'temporal': [
        *CONSTRUCTION_CASES,
        'duplicate agent name',
        'unknown activity config key',
        'sync tool configured inline',
        *RUN_TIME_CASES,
        'run_sync inside a workflow',
        'run_stream inside a workflow',
        'run_stream_events inside a workflow',
        'override of the model inside a workflow',
        'realtime session inside a workflow',
    ],
}
# After the cases, in the order the drivers try them.
EXTRAS = {'dbos-sqlite': [], 'prefect': [CONTROL], 'temporal': [CONTROL, OVERSIZE]}


@pytest.fixture(scope='module')
def tables(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Each engine's table of results, from its driver, run on first use."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def table(engine: str) -> list[dict[str, Any]]:
        if engine not in cache:
            tmp = tmp_path_factory.mktemp('misuse')
            if engine == 'dbos-sqlite':
                script, target = 'dbos_misuse.py', f'sqlite:///{tmp / "misuse.sqlite"}'
            elif engine == 'prefect':
                script, target = 'prefect_misuse.py', request.getfixturevalue('prefect_api_url')
            else:
                script, target = 'temporal_misuse.py', request.getfixturevalue('temporal_dev_server').target
            out = tmp / f'{engine}.json'
            done = subprocess.run(
                [sys.executable, str(ENGINES_DIR / script), target, str(out)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            cache[engine] = json.loads(out.read_text())
        return cache[engine]

    return table


def _result(table: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(case for case in table if case['case'] == name)


@pytest.mark.parametrize('engine', list(CASES))
def test_the_driver_tried_every_case(engine: str, tables: Callable[[str], Any]) -> None:
    assert [case['case'] for case in tables(engine)] == [*CASES[engine], *EXTRAS[engine]]


@pytest.mark.parametrize('engine', ['prefect', 'temporal'])
def test_the_journal_count_sees_a_valid_run(engine: str, tables: Callable[[str], Any]) -> None:
    """The control: a valid run journals records the count sees, so a zero for a refused case means something."""
    control = _result(tables(engine), CONTROL)
    assert control['error_type'] is None, control['message']
    assert control['journaled'] > 0


@pytest.mark.parametrize(('engine', 'name'), [(engine, name) for engine, names in CASES.items() for name in names])
def test_case_is_refused_clearly_and_journals_nothing(engine: str, name: str, tables: Callable[[str], Any]) -> None:
    case = _result(tables(engine), name)
    assert case['error_type'] is not None, f'{name}: no error was raised'
    assert case['names_fix'], f'{name}: the error does not name the fix: {case["message"]}'
    assert case['journaled'] == 0, f'{name}: {case["journaled"]} records were journaled'
    _summary.add(engine, 'bad inputs refused')


def test_temporal_output_larger_than_the_payload_limit_fails_at_once_and_clearly(tables: Callable[[str], Any]) -> None:
    """It cannot be refused before the model request that makes it, but must fail then, not retry what fails again."""
    case = _result(tables('temporal'), OVERSIZE)
    assert case['error_type'] is not None, 'no error was raised'
    assert case['names_fix'], f'the error does not name the fix: {case["message"]}'
    assert 'misuse_oversize.model_request' in case['message'], f'the error does not name the activity: {case}'
    assert case['journaled'] == 1  # the one model request, and nothing after it
    assert case['model_request_attempts'] == 1, f'the request was made {case["model_request_attempts"]} times'
    _summary.add('temporal', 'bad inputs refused')
