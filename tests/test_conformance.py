"""Every engine keeps the same promise: the same output and the same calls as a plain `agent.run()`.

Each engine runs all scenarios in one subprocess (engines are process-wide singletons), once per
test session; each (engine, scenario) pair is then one test.
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
from scenarios import SCENARIOS, summarise_calls

ENGINES_DIR = Path(__file__).parent / 'engines'


def _run_driver(script: str, *args: str, tmp: Path) -> dict[str, Any]:
    out = tmp / f'{script}.json'
    done = subprocess.run(
        [sys.executable, str(ENGINES_DIR / script), *args, str(out)], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(out.read_text())


@pytest.fixture(scope='session')
def engine_reports(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[str], Any]:
    cache: dict[str, dict[str, Any]] = {}

    def report(engine: str) -> dict[str, Any]:
        if engine not in cache:
            tmp = tmp_path_factory.mktemp(engine)
            if engine == 'dbos-sqlite':
                cache[engine] = _run_driver('dbos_driver.py', f'sqlite:///{tmp / "dbos.sqlite"}', tmp=tmp)
            elif engine == 'dbos-postgres':
                server = request.getfixturevalue('postgres_server')
                cache[engine] = _run_driver('dbos_driver.py', server.create_database('conformance'), tmp=tmp)
            elif engine == 'prefect':
                api_url = request.getfixturevalue('prefect_api_url')
                cache[engine] = _run_driver('prefect_driver.py', api_url, tmp=tmp)
            elif engine == 'temporal':
                server = request.getfixturevalue('temporal_dev_server')
                cache[engine] = _run_driver('temporal_driver.py', server.target, tmp=tmp)
            else:
                raise AssertionError(engine)
        return cache[engine]

    return report


async def _plain(scenario_name: str) -> dict[str, Any]:
    scenario = next(s for s in SCENARIOS if s.name == scenario_name)
    calls: list[str] = []
    built = scenario.build(f'{scenario.name}_plain', calls)

    async def run(prompt: Any, **kwargs: Any) -> Any:
        model = kwargs.pop('model', None)
        return await built.agent.run(prompt, model=built.models.get(model, model) if model else None, **kwargs)

    outcome = await built.drive(run)
    return {'outcome': json.loads(json.dumps(outcome, default=str)), 'calls': summarise_calls(calls)}


ENGINES = ['dbos-sqlite', 'dbos-postgres', 'prefect', 'temporal']


@pytest.fixture
def engine_server(request: pytest.FixtureRequest) -> None:
    """Start the engine's server before the test's event loop runs.

    Prefect's settings context, which `prefect_server` enters, must not be entered inside the loop, or its teardown
    runs in another context.
    """
    if request.node.callspec.params['engine'] == 'prefect':
        request.getfixturevalue('prefect_api_url')


@pytest.mark.parametrize('engine', ENGINES)
@pytest.mark.parametrize('scenario', [s.name for s in SCENARIOS])
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
    _summary.add(engine, 'scenarios passed')
