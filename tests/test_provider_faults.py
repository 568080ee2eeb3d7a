"""Faults from the model provider, and secrets: what the engines journal about a real provider SDK.

The OpenAI SDK talks to a local OpenAI-compatible server that injects 429, 500, timeouts and dropped
connections into 30% of calls. durable-core's helpers turn the SDK's own retries off, so every retry
is the engine's, visible and counted; the server's counters prove the SDK made none of its own.

Each test runs on every engine in two forms: the wrapper (`DBOSAgent(agent).run`) and the capability form
(`Agent(..., capabilities=[DBOSDurability(...)])`, `agent.run()` called in a workflow or flow of the driver's).
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
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _summary
import pytest
from durable_core.testing import (
    CallCounts,
    FaultKind,
    FaultPlan,
    OpenAICompatibleServer,
    PreloadedPython,
    RecordedRequest,
    StepLike,
    ToolCall,
)
from engines._provider import SECRET_HEADER, SECRET_KEY

ENGINES_DIR = Path(__file__).parent / 'engines'


def answer(request: RecordedRequest) -> StepLike:
    conversation = request.conversation()
    if conversation[-1]['role'] == 'user':
        city = conversation[-1]['content'].rsplit(' ', 1)[-1].rstrip('?')
        return ToolCall('lookup', {'city': city})
    return f'It is {conversation[-1]["content"]}.'


@dataclass
class Driven:
    """A driver's run of one mode against its own server: its report, what the server saw, what the engine kept."""

    report: dict[str, Any]
    calls: CallCounts
    requests: list[RecordedRequest]
    stored_text: Callable[[], str]
    """Every text the engine stored of the run, read when called."""


class _Run:
    """A driver subprocess against an OpenAI-compatible server of its own, both started now; `wait()` ends them."""

    def __init__(self, script: str, args: list[str], tmp: Path, server: OpenAICompatibleServer) -> None:
        self.server = server
        self.out = tmp / 'report.json'
        self._stderr = (tmp / 'stderr.txt').open('w+')
        self._process = PreloadedPython.shared().popen(
            [sys.executable, str(ENGINES_DIR / script), *args, str(self.out)],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def wait(self) -> tuple[dict[str, Any], CallCounts, list[RecordedRequest]]:
        try:
            returncode = self._process.wait(timeout=600)
            calls, requests = self.server.calls, self.server.requests
        finally:
            if self._process.poll() is None:
                self._process.kill()
            self.server.stop()
        self._stderr.seek(0)
        assert returncode == 0, self._stderr.read()[-3000:]
        return json.loads(self.out.read_text()), calls, requests


StoredText = Callable[[dict[str, Any]], str]
"""Every text an engine stored of a run, given the run's report."""


class ProviderRuns:
    """Each (target, mode) run of the session. A target's other form, if selected, starts beside it, against a
    server of its own: an engine's two drivers run side by side, one waiting on its engine while the other works."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._request = request
        self._tmp_path_factory = tmp_path_factory
        self._selected: dict[str, set[str]] = defaultdict(set)
        for item in request.session.items:
            params = getattr(item, 'callspec', None)
            if (
                params is not None
                and 'target' in params.params
                and getattr(item, 'module', None) is sys.modules[__name__]
            ):
                self._selected[getattr(item, 'originalname', item.name)].add(params.params['target'])
        self._runs: dict[tuple[str, str], tuple[_Run, StoredText]] = {}
        """The runs started and not yet collected by their test."""
        self._started: set[tuple[str, str]] = set()
        """Every run started, collected or not: each starts once."""

    def drive(self, test: str, target: str, mode: str, server: Callable[[], OpenAICompatibleServer]) -> Driven:
        """`mode`'s run on `target` (started now, or already beside its sibling), against a server from `server()`."""
        engine = _engine_and_form(target)[0]
        for other in sorted({target} | self._selected[test]):
            if _engine_and_form(other)[0] == engine and (other, mode) not in self._started:
                self._started.add((other, mode))
                self._runs[other, mode] = self._start(other, mode, server())
        run, stored_text = self._runs.pop((target, mode))
        report, calls, requests = run.wait()
        return Driven(report, calls, requests, lambda: stored_text(report))

    def close(self) -> None:
        """End the runs no test collected (their sibling's test failed first, or theirs was deselected)."""
        for run, _ in self._runs.values():
            with contextlib.suppress(Exception):
                run.wait()

    def _start(self, target: str, mode: str, server: OpenAICompatibleServer) -> tuple[_Run, StoredText]:
        engine, form = _engine_and_form(target)
        tmp = self._tmp_path_factory.mktemp(f'{mode}-{target.replace(" ", "-")}')
        server.start()
        url = server.base_url
        if engine == 'prefect':
            api_url: str = self._request.getfixturevalue('prefect_api_url')
            server_home: Path = self._request.getfixturevalue('prefect_server').home
            home = tmp / 'prefect-home'
            flow_name = f'provider_{mode}.run' if form == 'wrapper' else f'provider_{mode}.capability_run'
            run = _Run('prefect_provider.py', [form, mode, url, api_url, str(home)], tmp, server)
            return run, lambda report: _prefect_stored_text(home, server_home, flow_name)
        if engine == 'temporal':
            temporal: str = self._request.getfixturevalue('temporal_dev_server').target
            run = _Run('temporal_provider.py', [form, mode, url, temporal], tmp, server)
            return run, lambda report: asyncio.run(_temporal_history_text(temporal, report['workflow_ids']))
        if engine == 'dbos-sqlite':
            db_url = f'sqlite:///{tmp / "provider.sqlite"}'
        else:
            db_url = self._request.getfixturevalue('postgres_server').create_database(
                f'provider_{uuid.uuid4().hex[:8]}'
            )
        run = _Run('dbos_provider.py', [form, mode, url, db_url], tmp, server)
        return run, lambda report: _every_stored_text(db_url)


def _engine_and_form(target: str) -> tuple[str, str]:
    """`'prefect capability'` -> `('prefect', 'capability')`; a bare engine is its wrapper form."""
    engine, _, form = target.partition(' ')
    return engine, form or 'wrapper'


@pytest.fixture(scope='session')
def provider_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderRuns]:
    runs = ProviderRuns(request, tmp_path_factory)
    yield runs
    runs.close()


ENGINES = ['dbos-sqlite', 'dbos-postgres', 'prefect', 'temporal']
TARGETS = ENGINES + [f'{engine} capability' for engine in ENGINES]
"""An engine alone is its wrapper form; `'<engine> capability'` its capability form: a summary row each."""

NOT_IN_CAPABILITY_FORM: dict[str, str] = {}
"""Tests that cannot pass in the capability form (by design, or a known bug), with why: a strict xfail."""


def _targets(test: str) -> list[Any]:
    cases: list[Any] = []
    for target in TARGETS:
        reason = NOT_IN_CAPABILITY_FORM.get(test) if target.endswith(' capability') else None
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        cases.append(pytest.param(target, marks=marks, id=target.replace(' ', '-')))
    return cases


@dataclass
class Target:
    """A target the provider suites run on (an engine in a form), and how to drive it in a mode."""

    name: str
    """The target's row in the summary table: `'prefect'`, `'prefect capability'`."""
    test: str
    runs: ProviderRuns

    def drive(self, mode: str, server: Callable[[], OpenAICompatibleServer]) -> Driven:
        driven = self.runs.drive(self.test, self.name, mode, server)
        if self.name.endswith(' capability'):
            _assert_durable(driven.report)
        return driven


def _assert_durable(report: dict[str, Any]) -> None:
    """The capability form's runs were durable: each ran in a container, its model requests units of it."""
    assert report['containers'] >= 1, report
    if 'units' in report:  # DBOS's steps, Temporal's activities (Prefect's tasks are read with its records)
        assert any(unit.endswith('.model_request') for unit in report['units']), report['units']


@pytest.fixture
def target(request: pytest.FixtureRequest, provider_runs: ProviderRuns) -> Target:
    name: str = request.param
    if _engine_and_form(name)[0] == 'prefect':
        request.getfixturevalue('prefect_api_url')  # Prefect's settings for this process, before a record is read
    return Target(name, request.node.originalname, provider_runs)


@pytest.mark.parametrize(
    'target', _targets('test_thirty_percent_faults_are_survived_by_engine_retries_alone'), indirect=True
)
def test_thirty_percent_faults_are_survived_by_engine_retries_alone(target: Target) -> None:
    faults = FaultPlan(
        rate=0.3,
        kinds=[FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.DISCONNECT],
        seed=7,
        hang_seconds=4.0,
    )
    driven = target.drive('faults', lambda: OpenAICompatibleServer(answer, faults=faults))
    report, calls = driven.report, driven.calls
    assert report['outputs'] == [f'It is {n}: 21 degrees.' for n in range(10)]
    assert calls.faulted > 0
    assert calls.succeeded == 20  # two model requests per run
    # Every HTTP call the server saw is one attempt of a model-request step: the SDK retried nothing itself.
    assert calls.total == report['attempts']
    assert calls.total == calls.succeeded + calls.faulted
    for kind in (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT, FaultKind.DISCONNECT):
        assert calls.fault_count(kind) > 0, kind
    _summary.put(target.name, 'faults injected/survived', f'{calls.faulted}/{calls.faulted}')


@pytest.mark.parametrize(
    'target', _targets('test_a_rejected_request_fails_the_run_at_once_with_its_error_type'), indirect=True
)
def test_a_rejected_request_fails_the_run_at_once_with_its_error_type(target: Target) -> None:
    bad_requests = FaultPlan(rate=1.0, kinds=[FaultKind.BAD_REQUEST])
    driven = target.drive('bad_request', lambda: OpenAICompatibleServer(answer, faults=bad_requests))
    report, calls = driven.report, driven.calls
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


@pytest.mark.parametrize('target', _targets('test_no_secret_reaches_the_durable_log'), indirect=True)
def test_no_secret_reaches_the_durable_log(target: Target) -> None:
    driven = target.drive('secrets', lambda: OpenAICompatibleServer(answer))
    report, requests = driven.report, driven.requests
    assert report['outputs'] == ['It is Lisbon: 21 degrees.']
    # The secrets did reach the provider, so their absence from the log means something.
    assert requests[0].headers['authorization'] == f'Bearer {SECRET_KEY}'
    assert requests[0].headers['x-custom-auth'] == SECRET_HEADER
    stored = driven.stored_text()
    assert 'Lisbon: 21 degrees' in stored  # the log was read
    found = int(SECRET_KEY in stored) + int('SECRET-HEADER' in stored)
    _summary.add(target.name, 'secrets found', found)
    assert SECRET_KEY not in stored
    assert 'SECRET-HEADER' not in stored


def _prefect_stored_text(home: Path, server_home: Path, flow_name: str) -> str:
    """Everything Prefect kept of the secrets run.

    The persisted results (every file under the run's PREFECT_HOME, where local result storage lives), the flow runs
    and task runs of the agent as the Prefect client reads them (flow-run parameters, task-run inputs, cache keys,
    states), their logs, and every file of the server's own home (its SQLite database holds events and logs too).
    """
    texts = [path.read_bytes().decode('utf-8', 'replace') for path in sorted(home.rglob('*')) if path.is_file()]
    assert any((home / 'storage').rglob('*')), 'no persisted result was found to search'
    texts += [path.read_bytes().decode('utf-8', 'replace') for path in sorted(server_home.rglob('*')) if path.is_file()]
    texts.append(asyncio.run(_prefect_records(flow_name)))
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
