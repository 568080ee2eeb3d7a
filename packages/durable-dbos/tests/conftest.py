"""DBOS on both of its real backends: SQLite (a temp file) and PostgreSQL (a throw-away local cluster).

Fixtures (session scoped):

- ``postgres_server``: a :class:`durable_core.testing.PostgresServer`, started only if a PostgreSQL-backed
  test runs.
- ``dbos_backend``: parametrized over ``sqlite`` and ``postgres``; a :class:`DbosBackend` with a fresh, empty
  system database URL. Every test that uses it (or ``dbos``) runs once per backend; pytest groups the tests by
  backend, so each backend is set up once.
- ``dbos``: DBOS configured on ``dbos_backend`` and launched (``DBOS(config=...)``, ``DBOS.launch()``), destroyed
  with ``DBOS.destroy()`` before the next backend. DBOS is a process-wide singleton: register workflows and steps at
  import time (module level) so that they exist before launch. Yields the ``DBOS`` instance.
- ``dbos_config`` (function scoped): a factory of ``DBOSConfig`` for tests that manage the DBOS lifecycle
  themselves (they must not also use ``dbos``, and must call ``DBOS.destroy()`` when done).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import pytest
from dbos import DBOS, DBOSConfig
from durable_core.testing import PostgresServer

BackendName = Literal['sqlite', 'postgres']
_counter = itertools.count()


@dataclass(frozen=True)
class DbosBackend:
    name: BackendName
    system_database_url: str


@pytest.fixture(scope='session')
def postgres_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def _new_url(name: BackendName, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    n = next(_counter)
    if name == 'sqlite':
        return f'sqlite:///{tmp_path_factory.mktemp("dbos") / f"dbos_{n}.sqlite"}'
    server: PostgresServer = request.getfixturevalue('postgres_server')
    return server.create_database(f'dbos_{n}')


@pytest.fixture(scope='session', params=['sqlite', 'postgres'])
def dbos_backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> DbosBackend:
    name: BackendName = request.param
    return DbosBackend(name=name, system_database_url=_new_url(name, request, tmp_path_factory))


def make_dbos_config(system_database_url: str, **overrides: object) -> DBOSConfig:
    config: DBOSConfig = {
        'name': 'durable-dbos-tests',
        'system_database_url': system_database_url,
        'notification_listener_polling_interval_sec': 0.05,
        'scheduler_polling_interval_sec': 1.0,
    }
    config.update(overrides)  # type: ignore[typeddict-item]
    return config


@pytest.fixture(scope='session')
def dbos(dbos_backend: DbosBackend) -> Iterator[DBOS]:
    DBOS.destroy()  # a previous backend's, or a test's own, instance
    instance = DBOS(config=make_dbos_config(dbos_backend.system_database_url))
    DBOS.launch()
    try:
        yield instance
    finally:
        DBOS.destroy()


@pytest.fixture
def dbos_config(
    dbos_backend: DbosBackend, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., DBOSConfig]:
    def factory(**overrides: object) -> DBOSConfig:
        return make_dbos_config(_new_url(dbos_backend.name, request, tmp_path_factory), **overrides)

    return factory


@pytest.fixture(params=['wrapper', 'capability'])
def form(request: pytest.FixtureRequest) -> str:
    """The durable form a test's agent takes: `DBOSAgent(agent)`, or `DBOSDurability` in a workflow of the test's."""
    return request.param
