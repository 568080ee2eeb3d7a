"""DBOS on both of its real backends: SQLite (a temp file) and PostgreSQL (a throw-away local cluster).

The fixtures ``postgres_server``, ``dbos_backend`` (parametrized over ``sqlite`` and ``postgres``) and ``dbos``
(launched on that backend) come from durable-core's pytest plugin (``durable_core.testing.pytest_plugin``, see its
docstring). DBOS is a process-wide singleton: register workflows and steps at import time (module level) so that
they exist before launch. This package adds (``form``, wrapper or capability, is the plugin's too):

- ``dbos_config`` (function scoped): a factory of ``DBOSConfig`` for tests that manage the DBOS lifecycle
  themselves (they must not also use ``dbos``, and must call ``DBOS.destroy()`` when done).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dbos import DBOSConfig
from durable_core.testing.pytest_plugin import (  # the tests import DbosBackend from here
    DbosBackend,
    make_dbos_config,
    new_dbos_database_url,
)

pytest_plugins = ['durable_core.testing.pytest_plugin']


@pytest.fixture
def dbos_config(
    dbos_backend: DbosBackend, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., DBOSConfig]:
    def factory(**overrides: object) -> DBOSConfig:
        url = new_dbos_database_url(dbos_backend.name, request, tmp_path_factory)
        return make_dbos_config(url, **overrides)  # type: ignore[return-value]

    return factory
