"""A real local Prefect server for the whole test run.

The environment below is set before anything imports prefect (Prefect reads its settings at import): a private
PREFECT_HOME, no analytics, no tracking.

Fixtures (session scoped):

- ``prefect_server`` (autouse): ``prefect server start`` on a free port of 127.0.0.1
  (:class:`durable_core.testing.PrefectServer`, SQLite in a temp dir, no UI). For the whole session,
  ``PREFECT_API_URL`` points at it, both in Prefect's settings and in ``os.environ`` (for subprocesses), so no flow
  ever falls back to an ephemeral in-process server.
- ``prefect_api_url``: its ``.../api`` URL.
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

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from durable_core.testing import PrefectServer  # noqa: E402


@pytest.fixture(scope='session', autouse=True)
def prefect_server() -> Iterator[PrefectServer]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with PrefectServer(home=os.path.join(_PREFECT_HOME, 'server')) as server:
        os.environ['PREFECT_API_URL'] = server.api_url
        try:
            with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                yield server
                _drain_prefect_workers()
        finally:
            os.environ.pop('PREFECT_API_URL', None)


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
    return prefect_server.api_url


@pytest.fixture(params=['wrapper', 'capability'])
def form(request: pytest.FixtureRequest) -> str:
    """The durable form a test's agent takes: `PrefectAgent(agent)`, or `PrefectDurability` in a flow."""
    return request.param
