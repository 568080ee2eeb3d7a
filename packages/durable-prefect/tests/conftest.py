"""A real local Prefect server for the whole test run.

The environment below is set before anything imports prefect (Prefect reads its settings at import): a private
PREFECT_HOME, no analytics, no tracking.

The fixtures ``prefect_server`` and ``prefect_api_url`` come from durable-core's pytest plugin
(``durable_core.testing.pytest_plugin``, see its docstring): ``prefect server start`` on a free port of 127.0.0.1,
SQLite in a temp dir, no UI. Every test here uses it (``_every_test_uses_prefect_server``, autouse): for the whole
session, ``PREFECT_API_URL`` points at it, both in Prefect's settings and in ``os.environ`` (for subprocesses), so
no flow ever falls back to an ephemeral in-process server. ``form`` (wrapper or capability) too.
"""

import atexit
import os
import shutil
import tempfile

_PREFECT_HOME = tempfile.mkdtemp(prefix='durable-prefect-tests-')
atexit.register(shutil.rmtree, _PREFECT_HOME, True)
os.environ['PREFECT_HOME'] = _PREFECT_HOME
os.environ['PREFECT_SERVER_ANALYTICS_ENABLED'] = 'false'
os.environ['DO_NOT_TRACK'] = '1'
os.environ['PREFECT_SERVER_UI_ENABLED'] = 'false'
os.environ.pop('PREFECT_API_URL', None)
os.environ.pop('PREFECT_API_KEY', None)
os.environ.pop('PREFECT_PROFILES_PATH', None)

import pytest  # noqa: E402
from durable_core.testing import PrefectServer  # noqa: E402

pytest_plugins = ['durable_core.testing.pytest_plugin']


@pytest.fixture(scope='session', autouse=True)
def _every_test_uses_prefect_server(prefect_server: PrefectServer) -> PrefectServer:
    return prefect_server
