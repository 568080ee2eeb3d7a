"""Faults from the model provider, and secrets: what the engines journal about a real provider SDK.

The OpenAI SDK talks to a local OpenAI-compatible server that injects 429, 500, timeouts and dropped
connections into 30% of calls. durable-core's helpers turn the SDK's own retries off, so every retry
is the engine's, visible and counted; the server's counters prove the SDK made none of its own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _summary
import pytest
from durable_core.testing import FaultKind, FaultPlan, OpenAICompatibleServer, RecordedRequest, StepLike, ToolCall
from engines._provider import SECRET_HEADER, SECRET_KEY

ENGINES_DIR = Path(__file__).parent / 'engines'


def answer(request: RecordedRequest) -> StepLike:
    conversation = request.conversation()
    if conversation[-1]['role'] == 'user':
        city = conversation[-1]['content'].rsplit(' ', 1)[-1].rstrip('?')
        return ToolCall('lookup', {'city': city})
    return f'It is {conversation[-1]["content"]}.'


@dataclass
class Target:
    """An engine the provider suites run on: how to drive its subprocess, and every text it stored."""

    engine: str
    """The engine's name in the summary table."""
    drive: Callable[[str, OpenAICompatibleServer], dict[str, Any]]
    stored_text: Callable[[], str]


def _run(script: str, args: list[str], out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ENGINES_DIR / script), *args, str(out)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(params=['dbos-sqlite', 'dbos-postgres', 'prefect', 'temporal'])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    engine: str = request.param
    if engine == 'prefect':
        api_url: str = request.getfixturevalue('prefect_api_url')
        server_home: Path = request.getfixturevalue('prefect_server').home
        home = tmp_path / 'prefect-home'

        def drive_prefect(mode: str, server: OpenAICompatibleServer) -> dict[str, Any]:
            return _run('prefect_provider.py', [mode, server.base_url, api_url, str(home)], tmp_path / f'{mode}.json')

        return Target(engine, drive_prefect, lambda: _prefect_stored_text(home, server_home))
    if engine == 'temporal':
        target: str = request.getfixturevalue('temporal_dev_server').target

        def drive_temporal(mode: str, server: OpenAICompatibleServer) -> dict[str, Any]:
            return _run('temporal_provider.py', [mode, server.base_url, target], tmp_path / f'{mode}.json')

        def temporal_stored_text() -> str:
            workflow_ids = json.loads((tmp_path / 'secrets.json').read_text())['workflow_ids']
            return asyncio.run(_temporal_history_text(target, workflow_ids))

        return Target(engine, drive_temporal, temporal_stored_text)
    if engine == 'dbos-sqlite':
        db_url = f'sqlite:///{tmp_path / "provider.sqlite"}'
    else:
        db_url = request.getfixturevalue('postgres_server').create_database(f'provider_{uuid.uuid4().hex[:8]}')

    def drive_dbos(mode: str, server: OpenAICompatibleServer) -> dict[str, Any]:
        return _run('dbos_provider.py', [mode, server.base_url, db_url], tmp_path / f'{mode}.json')

    return Target(engine, drive_dbos, lambda: _every_stored_text(db_url))


def test_thirty_percent_faults_are_survived_by_engine_retries_alone(target: Target) -> None:
    faults = FaultPlan(
        rate=0.3,
        kinds=[FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.DISCONNECT],
        seed=7,
        hang_seconds=4.0,
    )
    with OpenAICompatibleServer(answer, faults=faults) as server:
        report = target.drive('faults', server)
        calls = server.calls
    assert report['outputs'] == [f'It is {n}: 21 degrees.' for n in range(10)]
    assert calls.faulted > 0
    assert calls.succeeded == 20  # two model requests per run
    # Every HTTP call the server saw is one attempt of a model-request step: the SDK retried nothing itself.
    assert calls.total == report['attempts']
    assert calls.total == calls.succeeded + calls.faulted
    for kind in (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.DISCONNECT):
        assert calls.fault_count(kind) > 0, kind
    _summary.put(target.engine, 'faults injected/survived', f'{calls.faulted}/{calls.faulted}')


def test_a_rejected_request_fails_the_run_at_once_with_its_error_type(target: Target) -> None:
    with OpenAICompatibleServer(answer, faults=FaultPlan(rate=1.0, kinds=[FaultKind.BAD_REQUEST])) as server:
        report = target.drive('bad_request', server)
        calls = server.calls
    assert report['error_type'] == 'ModelRequestRejectedError'  # what PydanticAI raises for a 400, unwrapped
    assert 'status_code: 400' in report['error']
    assert calls.total == 1
    assert report['attempts'] == 1


def _readable_forms(value: object) -> str:
    """A stored value as text, and unwrapped from DBOS's pickle serializer (base64), where the JSON sits as bytes."""
    text = str(value)
    try:
        unwrapped = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return text
    return f'{text}\n{unwrapped.decode("utf-8", errors="replace")}'


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
                        texts.extend(_readable_forms(value) for value in row)
        return '\n'.join(texts)
    finally:
        engine.dispose()


def test_no_secret_reaches_the_durable_log(target: Target) -> None:
    with OpenAICompatibleServer(answer) as server:
        report = target.drive('secrets', server)
        requests = server.requests
    assert report['outputs'] == ['It is Lisbon: 21 degrees.']
    # The secrets did reach the provider, so their absence from the log means something.
    assert requests[0].headers['authorization'] == f'Bearer {SECRET_KEY}'
    assert requests[0].headers['x-custom-auth'] == SECRET_HEADER
    stored = target.stored_text()
    assert 'Lisbon: 21 degrees' in stored  # the log was read
    found = int(SECRET_KEY in stored) + int('SECRET-HEADER' in stored)
    _summary.add(target.engine, 'secrets found', found)
    assert SECRET_KEY not in stored
    assert 'SECRET-HEADER' not in stored


def _prefect_stored_text(home: Path, server_home: Path) -> str:
    """Everything Prefect kept of the secrets run.

    The persisted results (every file under the run's PREFECT_HOME, where local result storage lives), the flow runs
    and task runs of the agent as the Prefect client reads them (flow-run parameters, task-run inputs, cache keys,
    states), their logs, and every file of the server's own home (its SQLite database holds events and logs too).
    """
    texts = [path.read_bytes().decode('utf-8', 'replace') for path in sorted(home.rglob('*')) if path.is_file()]
    assert any((home / 'storage').rglob('*')), 'no persisted result was found to search'
    texts += [path.read_bytes().decode('utf-8', 'replace') for path in sorted(server_home.rglob('*')) if path.is_file()]
    texts.append(asyncio.run(_prefect_records('provider_secrets.run')))
    return '\n'.join(texts)


async def _prefect_records(flow_name: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId, LogFilter

    async with get_client() as client:
        flow_runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])))
        assert flow_runs, f'no flow run of {flow_name} on the server'
        run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[run.id for run in flow_runs]))
        task_runs = await client.read_task_runs(flow_run_filter=run_filter)
        assert task_runs, 'no task run recorded'
        logs = await client.read_logs(
            log_filter=LogFilter(flow_run_id={'any_': [run.id for run in flow_runs]})  # type: ignore[arg-type]
        )
    records = [run.model_dump_json() for run in [*flow_runs, *task_runs, *logs]]
    return '\n'.join(records)


async def _temporal_history_text(target: str, workflow_ids: list[str]) -> str:
    """Every event of each workflow's history, read through the client: its raw bytes, and each payload decoded."""
    from temporalio.client import Client

    client = await Client.connect(target)
    texts: list[str] = []
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        assert history.events, f'no history for {workflow_id}'
        for event in history.events:
            texts.append(event.SerializeToString().decode('utf-8', 'replace'))
            texts.extend(_payload_texts(event))
    return '\n'.join(texts)


def _payload_texts(message: Any) -> Iterator[str]:
    """The data and metadata of every payload in a protobuf message, at any depth, as text (JSON re-dumped)."""
    from google.protobuf.message import Message
    from temporalio.api.common.v1 import Payload

    if isinstance(message, Payload):
        text = message.data.decode('utf-8', 'replace')
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), ensure_ascii=False)  # undo JSON escapes, such as \\u0053
        yield text
        yield from (value.decode('utf-8', 'replace') for value in message.metadata.values())
        return
    for _, value in message.ListFields():
        if isinstance(value, Message):
            items: list[Any] = [value]
        elif isinstance(value, str | bytes | int | float | bool):
            continue
        elif hasattr(value, 'values'):  # a map
            items = list(value.values())
        else:  # a repeated field
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                yield from _payload_texts(item)
