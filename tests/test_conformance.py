"""Every engine keeps the same promise: the same output and the same calls as a plain `agent.run()`.

Each engine runs all scenarios in one subprocess (engines are process-wide singletons), once per
test session and form; each (engine, form, scenario) is then one test. The wrapper form runs the agent in the
engine's wrapper (`DBOSAgent(agent).run`); the capability form builds it with the engine's durability capability
(`Agent(..., capabilities=[DBOSDurability(...)])`) and calls `agent.run()` in a workflow or flow of the driver's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import _summary
import pytest
from durable_core.testing import PreloadedPython
from scenarios import SCENARIOS, summarise_calls

ENGINES_DIR = Path(__file__).parent / 'engines'
_NO = SimpleNamespace(params={})
"""The call spec of a test that is not parametrized."""


class _Driver:
    """A driver subprocess, started now; `report()` waits for it and reads its JSON."""

    def __init__(self, script: str, *args: str, tmp: Path) -> None:
        self._out = tmp / f'{script}.json'
        self._stderr = (tmp / f'{script}.stderr').open('w+')
        self._process = PreloadedPython.shared().popen(
            [sys.executable, str(ENGINES_DIR / script), *args, str(self._out)],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def report(self) -> dict[str, Any]:
        returncode = self._process.wait(timeout=900)
        self._stderr.seek(0)
        assert returncode == 0, self._stderr.read()[-4000:]
        return json.loads(self._out.read_text())


@pytest.fixture(scope='session')
def engine_reports(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Each target's report, from its driver. A target's other forms selected in this session start beside it:
    two drivers at a time, so that a form's driver waiting on its engine leaves the CPU to the other's."""
    selected = {
        item.callspec.params['engine']
        for item in request.session.items
        if getattr(item, 'module', None) is sys.modules[__name__] and 'engine' in getattr(item, 'callspec', _NO).params
    }
    drivers: dict[str, _Driver] = {}
    cache: dict[str, dict[str, Any]] = {}

    def start(target: str) -> None:
        if target in drivers:
            return
        engine, form = _engine_and_form(target)
        tmp = tmp_path_factory.mktemp(target.replace(' ', '-'))
        if engine == 'dbos-sqlite':
            drivers[target] = _Driver('dbos_driver.py', form, f'sqlite:///{tmp / "dbos.sqlite"}', tmp=tmp)
        elif engine == 'dbos-postgres':
            server = request.getfixturevalue('postgres_server')
            database = server.create_database('conformance' if form == 'wrapper' else f'conformance_{form}')
            drivers[target] = _Driver('dbos_driver.py', form, database, tmp=tmp)
        elif engine == 'prefect':
            api_url = request.getfixturevalue('prefect_api_url')
            drivers[target] = _Driver('prefect_driver.py', form, api_url, tmp=tmp)
        elif engine == 'temporal':
            server = request.getfixturevalue('temporal_dev_server')
            drivers[target] = _Driver('temporal_driver.py', form, server.target, tmp=tmp)
        else:
            raise AssertionError(engine)

    def report(target: str) -> dict[str, Any]:
        if target not in cache:
            start(target)
            engine = _engine_and_form(target)[0]
            for sibling in sorted(selected - drivers.keys()):
                if _engine_and_form(sibling)[0] == engine:
                    start(sibling)
            cache[target] = drivers[target].report()
        return cache[target]

    return report


def _engine_and_form(target: str) -> tuple[str, str]:
    """`'prefect capability'` -> `('prefect', 'capability')`; a bare engine is its wrapper form."""
    engine, _, form = target.partition(' ')
    return engine, form or 'wrapper'


async def _plain(scenario_name: str) -> dict[str, Any]:
    scenario = next(s for s in SCENARIOS if s.name == scenario_name)
    calls: list[str] = []
    built = scenario.build(f'{scenario.name}_plain', calls)

    runs = 0

    async def run(prompt: Any, **kwargs: Any) -> Any:
        nonlocal runs
        runs += 1
        model = kwargs.pop('model', None)
        return await built.agent.run(prompt, model=built.models.get(model, model) if model else None, **kwargs)

    outcome = await built.drive(run)
    return {'outcome': json.loads(json.dumps(outcome, default=str)), 'calls': summarise_calls(calls), 'runs': runs}


ENGINES = ['dbos-sqlite', 'dbos-postgres', 'prefect', 'temporal']
CAPABILITY_FORM_ENGINES = ['dbos-sqlite', 'dbos-postgres', 'prefect', 'temporal']
"""Engines whose driver also runs the capability form (`…Durability`)."""
TARGETS = ENGINES + [f'{engine} capability' for engine in CAPABILITY_FORM_ENGINES]
"""An engine alone is its wrapper form; `'<engine> capability'` its capability form: a row each in the summary."""

NOT_IN_CAPABILITY_FORM: dict[str, str] = {}
"""Scenarios that cannot work in the capability form by design, with why: a strict xfail on every engine."""


def _cases() -> list[Any]:
    cases: list[Any] = []
    for scenario in SCENARIOS:
        for target in TARGETS:
            reason = NOT_IN_CAPABILITY_FORM.get(scenario.name) if target.endswith(' capability') else None
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(target, scenario.name, marks=marks, id=f'{scenario.name}-{target}'))
    return cases


@pytest.fixture
def engine_server(request: pytest.FixtureRequest) -> None:
    """Start the engine's server before the test's event loop runs.

    Prefect's settings context, which `prefect_server` enters, must not be entered inside the loop, or its teardown
    runs in another context.
    """
    if _engine_and_form(request.node.callspec.params['engine'])[0] == 'prefect':
        request.getfixturevalue('prefect_api_url')


@pytest.mark.parametrize(('engine', 'scenario'), _cases())
async def test_engine_matches_plain_agent(
    engine: str, scenario: str, engine_reports: Callable[[str], Any], engine_server: None
) -> None:
    expected = await _plain(scenario)
    got = engine_reports(engine)[scenario]
    assert got['error'] is None, got['error']
    assert got['outcome'] == expected['outcome']
    assert got['calls'] == expected['calls']
    if 'flow_runs' in got:  # engines whose driver can tell: the run really went through the engine
        assert got['flow_runs'] >= 1
    if _engine_and_form(engine)[1] == 'capability':  # each run was durable, not a plain run inside the container
        _assert_journaled_every_call(got['units'], expected['calls'], got['containers'], expected['runs'])
    _summary.add(engine, 'scenarios passed')


_TOOL_UNITS = ('.tool_call.', '.toolset_call_tool.')
"""Units of the tool calls a scenario records (an MCP server's tools run in its own process and record nothing)."""


def _assert_journaled_every_call(units: list[str], calls: list[str], containers: int, runs: int) -> None:
    """Every model request and tool call of the capability form's runs was a unit (step, task) of its container."""
    assert containers == runs, f'{runs} agent runs, but {containers} ran in a workflow or flow of the driver'
    model_units = [unit for unit in units if unit.endswith('.model_request')]
    tool_units = [unit for unit in units if any(kind in unit for kind in _TOOL_UNITS)]
    assert len(model_units) == sum(not call.startswith('tool:') for call in calls), units
    assert len(tool_units) == sum(call.startswith('tool:') for call in calls), units
