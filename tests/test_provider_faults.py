"""Faults from the model provider, and secrets: what the engines journal about a real provider SDK.

The OpenAI SDK talks to a local OpenAI-compatible server that injects 429, 500, timeouts and dropped
connections into 30% of calls. durable-core's helpers turn the SDK's own retries off, so every retry
is the engine's, visible and counted; the server's counters prove the SDK made none of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _summary
import pytest
from durable_core.testing import FaultKind, FaultPlan, OpenAICompatibleServer, RecordedRequest, StepLike, ToolCall

ENGINES_DIR = Path(__file__).parent / 'engines'
SECRET_KEY = 'sk-test-SECRET-KEY-0123456789'
SECRET_HEADER = 'Bearer SECRET-HEADER-9876543210'


def answer(request: RecordedRequest) -> StepLike:
    conversation = request.conversation()
    if conversation[-1]['role'] == 'user':
        city = conversation[-1]['content'].rsplit(' ', 1)[-1].rstrip('?')
        return ToolCall('lookup', {'city': city})
    return f'It is {conversation[-1]["content"]}.'


def _drive(mode: str, server: OpenAICompatibleServer, db_url: str, tmp: Path) -> dict[str, Any]:
    out = tmp / f'{mode}.json'
    done = subprocess.run(
        [sys.executable, str(ENGINES_DIR / 'dbos_provider.py'), mode, server.base_url, db_url, str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(params=['sqlite', 'postgres'])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == 'sqlite':
        yield f'sqlite:///{tmp_path / "provider.sqlite"}'
    else:
        yield request.getfixturevalue('postgres_server').create_database(f'provider_{uuid.uuid4().hex[:8]}')


def test_thirty_percent_faults_are_survived_by_engine_retries_alone(db_url: str, backend: str, tmp_path: Path) -> None:
    faults = FaultPlan(
        rate=0.3,
        kinds=[FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.DISCONNECT],
        seed=7,
        hang_seconds=4.0,
    )
    with OpenAICompatibleServer(answer, faults=faults) as server:
        report = _drive('faults', server, db_url, tmp_path)
        calls = server.calls
    assert report['outputs'] == [f'It is {n}: 21 degrees.' for n in range(10)]
    assert calls.faulted > 0
    assert calls.succeeded == 20  # two model requests per run
    # Every HTTP call the server saw is one attempt of a model-request step: the SDK retried nothing itself.
    assert calls.total == report['attempts']
    assert calls.total == calls.succeeded + calls.faulted
    for kind in (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.DISCONNECT):
        assert calls.fault_count(kind) > 0, kind
    _summary.put(f'dbos-{backend}', 'faults injected/survived', f'{calls.faulted}/{calls.faulted}')


def test_a_rejected_request_fails_the_run_at_once_with_its_error_type(db_url: str, tmp_path: Path) -> None:
    with OpenAICompatibleServer(answer, faults=FaultPlan(rate=1.0, kinds=[FaultKind.BAD_REQUEST])) as server:
        report = _drive('bad_request', server, db_url, tmp_path)
        calls = server.calls
    assert report['error_type'] == 'ModelRequestRejectedError'  # what PydanticAI raises for a 400, unwrapped
    assert 'status_code: 400' in report['error']
    assert calls.total == 1
    assert report['attempts'] == 1


def _every_stored_text(db_url: str) -> str:
    import sqlalchemy as sa

    url = db_url.replace('postgresql://', 'postgresql+psycopg://', 1)
    engine = sa.create_engine(url)
    try:
        texts: list[str] = []
        inspector = sa.inspect(engine)
        schemas = ['dbos'] if url.startswith('postgresql') else [None]
        with engine.connect() as connection:
            for schema in schemas:
                for table in inspector.get_table_names(schema=schema):
                    name = f'{schema}.{table}' if schema else table
                    for row in connection.execute(sa.text(f'SELECT * FROM {name}')):
                        texts.extend(str(value) for value in row)
        return '\n'.join(texts)
    finally:
        engine.dispose()


def test_no_secret_reaches_the_durable_log(db_url: str, backend: str, tmp_path: Path) -> None:
    with OpenAICompatibleServer(answer) as server:
        report = _drive('secrets', server, db_url, tmp_path)
        requests = server.requests
    assert report['outputs'] == ['It is Lisbon: 21 degrees.']
    # The secrets did reach the provider, so their absence from the log means something.
    assert requests[0].headers['authorization'] == f'Bearer {SECRET_KEY}'
    assert requests[0].headers['x-custom-auth'] == SECRET_HEADER
    stored = _every_stored_text(db_url)
    assert 'Lisbon: 21 degrees' in stored  # the log was read
    found = int(SECRET_KEY in stored) + int('SECRET-HEADER' in stored)
    _summary.add(f'dbos-{backend}', 'secrets found', found)
    assert SECRET_KEY not in stored
    assert 'SECRET-HEADER' not in stored
