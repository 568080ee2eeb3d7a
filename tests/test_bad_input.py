"""Bad input is refused up front: a clear error that names the fix, and nothing journaled or half-run.

Each engine's driver (`engines/<engine>_misuse.py`) tries its table of cases in one subprocess, once per session and
form: the cases every engine shares (`engines/_misuse.py`) and its own. Each (target, case) pair is then one test.

Every table runs on each engine in two forms, a summary row each: the wrapper (`DBOSAgent(agent, **config)`) and the
capability form (`'dbos-sqlite capability'`: `Agent(..., capabilities=[DBOSDurability(**config)])`, whose runs are
the agent's own `run()` in a workflow or flow of the driver's). A case's twin in the capability form is the same bad
argument given to the capability, or the same bad run made through the agent's own `run()`; the capability form adds
its own misuse (`CAPABILITY_ONLY`; a missing name is the shared 'missing agent name').
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _summary
import pytest
from durable_core.testing import PreloadedPython
from engines._misuse import (
    CONSTRUCTION_CASES,
    NOT_IN_CAPABILITY_FORM,
    RUN_IN_PROCESS_ACCEPTS,
    RUN_TIME_CASES,
    TOOLS_INLINE_ACCEPTS,
)

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
CONTROL_ONLY = [CONTROL]
# After the cases, in the order the drivers try them.
EXTRAS = {'dbos-sqlite': CONTROL_ONLY, 'prefect': CONTROL_ONLY, 'temporal': [CONTROL, OVERSIZE]}

CAPABILITY_ONLY = {
    'dbos-sqlite': [
        'two durability capabilities on one agent',
        'wrapper around a capability agent',
        'durability capability given for one run',
        'config for a tool the agent lacks',
    ],
    'prefect': [
        'two durability capabilities on one agent',
        'wrapper around a capability agent',
        'durability capability given for one run',
        'config for a tool the agent lacks',
    ],
    'temporal': [
        'two durability capabilities on one agent',
        'wrapper around a capability agent',
        'durability capability given for one run',
        'config for a toolset the agent lacks',  # its per-tool configs are the tools' metadata
        'capability agent on a worker that did not register it',
    ],
}
"""The capability form's own misuse, after its twins of the wrapper's cases."""

KNOWN_CAPABILITY_GAPS: dict[str, dict[str, str]] = {
    'dbos-sqlite': {},
    'prefect': {},
    'temporal': {},
}
"""Capability-form cases that are not refused as they should be: a strict xfail each, with what happens instead."""

CAPABILITY_CASES = {
    f'{engine} capability': [
        *[name for name in names if name not in NOT_IN_CAPABILITY_FORM[engine]],
        *CAPABILITY_ONLY[engine],
    ]
    for engine, names in CASES.items()
}
TABLES = {**CASES, **CAPABILITY_CASES}
"""Each target's cases: an engine alone is its wrapper form; `'<engine> capability'` its capability form."""
EXTRAS.update({target: CONTROL_ONLY for target in CAPABILITY_CASES})


def _engine_and_form(target: str) -> tuple[str, str]:
    """`'prefect capability'` -> `('prefect', 'capability')`; a bare engine is its wrapper form."""
    engine, _, form = target.partition(' ')
    return engine, form or 'wrapper'


def _cases() -> list[Any]:
    params: list[Any] = []
    for target, names in TABLES.items():
        engine, form = _engine_and_form(target)
        for name in names:
            reason = KNOWN_CAPABILITY_GAPS[engine].get(name) if form == 'capability' else None
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(target, name, marks=marks))
    return params


@pytest.fixture(scope='module')
def tables(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Each target's table of results, from its engine's driver in its form, run on first use."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def table(target: str) -> list[dict[str, Any]]:
        if target not in cache:
            engine, form = _engine_and_form(target)
            tmp = tmp_path_factory.mktemp('misuse')
            if engine == 'dbos-sqlite':
                script, server = 'dbos_misuse.py', f'sqlite:///{tmp / "misuse.sqlite"}'
            elif engine == 'prefect':
                script, server = 'prefect_misuse.py', request.getfixturevalue('prefect_api_url')
            else:
                script, server = 'temporal_misuse.py', request.getfixturevalue('temporal_dev_server').target
            out = tmp / f'{engine}-{form}.json'
            done = PreloadedPython.shared().run(
                [sys.executable, str(ENGINES_DIR / script), form, server, str(out)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            cache[target] = json.loads(out.read_text())
        return cache[target]

    return table


def _result(table: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(case for case in table if case['case'] == name)


@pytest.mark.parametrize('target', list(TABLES))
def test_the_driver_tried_every_case(target: str, tables: Callable[[str], Any]) -> None:
    assert [case['case'] for case in tables(target)] == [*TABLES[target], *EXTRAS[target]]


@pytest.mark.parametrize('target', list(TABLES))
def test_the_journal_count_sees_a_valid_run(target: str, tables: Callable[[str], Any]) -> None:
    """The control: a valid run journals records the count sees, so a zero for a refused case means something."""
    control = _result(tables(target), CONTROL)
    assert control['error_type'] is None, control['message']
    assert control['journaled'] > 0


@pytest.mark.parametrize(('target', 'name'), _cases())
def test_case_is_refused_clearly_and_journals_nothing(target: str, name: str, tables: Callable[[str], Any]) -> None:
    case = _result(tables(target), name)
    assert case['error_type'] is not None, f'{name}: no error was raised'
    assert case['names_fix'], f'{name}: the error does not name the fix: {case["message"]}'
    assert case['journaled'] == 0, f'{name}: {case["journaled"]} records were journaled'
    _summary.add(target, 'bad inputs refused')


def test_temporal_output_larger_than_the_payload_limit_fails_at_once_and_clearly(tables: Callable[[str], Any]) -> None:
    """It cannot be refused before the model request that makes it, but must fail then, not retry what fails again."""
    case = _result(tables('temporal'), OVERSIZE)
    assert case['error_type'] is not None, 'no error was raised'
    assert case['names_fix'], f'the error does not name the fix: {case["message"]}'
    assert 'misuse_oversize.model_request' in case['message'], f'the error does not name the activity: {case}'
    assert case['journaled'] == 1  # the one model request, and nothing after it
    assert case['model_request_attempts'] == 1, f'the request was made {case["model_request_attempts"]} times'
    _summary.add('temporal', 'bad inputs refused')


def test_every_case_left_out_or_known_as_a_gap_is_a_case_of_its_table() -> None:
    """A misspelt name in either dict would leave a case in (or out of) the table unnoticed."""
    for engine, names in NOT_IN_CAPABILITY_FORM.items():
        assert set(names) <= set(CASES[engine]), engine
    for engine, names in KNOWN_CAPABILITY_GAPS.items():
        assert set(names) <= set(CAPABILITY_CASES[f'{engine} capability']), engine
