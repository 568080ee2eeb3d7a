"""Fixtures for the cross-engine suites: every engine's real server, each started once per run, on demand.

These run in a venv that holds every package (the ``cross-*`` environments of tox.toml, or ``.venvs/all``). The
engine fixtures come from durable-core's pytest plugin (``durable_core.testing.pytest_plugin``, see its docstring),
the one each package's tests load too: engines are imported inside the fixtures, so a suite that needs one engine
only starts that one. Prefect's environment is set here, before anything imports prefect.

Temporal: ``temporal_dev_server``, ``temporal_client``, ``temporal_env``, ``time_skipping_env``, ``task_queue``.
DBOS: ``postgres_server``, ``dbos_backend`` (params ``sqlite``/``postgres``), ``dbos`` (launched on that backend).
Prefect: ``prefect_server`` (sets ``PREFECT_API_URL`` for the rest of the session once requested; request it, or
``prefect_api_url``, in every test that runs a flow, or flows would use an ephemeral server).
Recovery fidelity (defined here): ``dbos_fidelity``, ``prefect_fidelity``, ``temporal_fidelity`` (see
``_fidelity_runs.py``).
"""

import atexit
import os
import shutil
import tempfile

_PREFECT_HOME = tempfile.mkdtemp(prefix='durable-cross-tests-prefect-')
atexit.register(shutil.rmtree, _PREFECT_HOME, True)
os.environ['PREFECT_HOME'] = _PREFECT_HOME
os.environ['PREFECT_SERVER_ANALYTICS_ENABLED'] = 'false'
os.environ['DO_NOT_TRACK'] = '1'
os.environ['PREFECT_SERVER_UI_ENABLED'] = 'false'
os.environ.pop('PREFECT_API_URL', None)
os.environ.pop('PREFECT_API_KEY', None)
os.environ.pop('PREFECT_PROFILES_PATH', None)

from typing import Any  # noqa: E402

import pytest  # noqa: E402

# The recovery-fidelity runs, once per session for test_fidelity.py and compat/ alike.
from _fidelity_runs import (  # noqa: E402, F401
    dbos_fidelity,
    prefect_capability_fidelity,
    prefect_fidelity,
    temporal_fidelity,
)

# The engines' servers, clients and environments (see the docstring above).
pytest_plugins = ['durable_core.testing.pytest_plugin']


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption('--soak', action='store_true', help='run the long kill trials (100 per engine instead of 10)')


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each `tests/compat/` program's outcomes for the summary (a failed setup counts as a failure)."""
    if '/compat/' not in f'/{report.nodeid}' or (report.when != 'call' and report.passed):
        return
    from _summary import compat_difference, compat_outcome

    outcome = 'xfailed' if hasattr(report, 'wasxfail') else report.outcome
    compat_outcome(report.nodeid, outcome)
    if outcome == 'xfailed':
        compat_difference(report.nodeid, f'known difference (strict xfail): {report.wasxfail}')


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from _summary import render

    lines = render()
    if lines:
        terminalreporter.section('durable-agents: the promise, engine by engine')
        for line in lines:
            terminalreporter.write_line(line)
