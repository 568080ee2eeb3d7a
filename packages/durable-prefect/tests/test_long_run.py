"""A 1,000-call agent completes on Prefect, and what Prefect keeps of its run grows linearly with its steps.

The agent reads 1,000 pages, one sequential tool call each (every page 2,000 bytes of text of its own), then answers
`Read 1000 pages.`; `PrefectAgent` runs it as a flow, each model request and tool call a task whose result is
persisted. What Prefect keeps of the run's first 20, 80, 320 and 1,000 calls (their task runs, in the order they
started) is measured where Prefect keeps it:

- `result_storage`: the files of the task runs' results (found by the storage keys of their final states, through the
  API, as `bench/_prefect.py`'s `LogSizer` does), bytes on disk;
- the server's database (the test server's SQLite file, read-only): every row of the task runs, their states and
  cache entries, logs and artifacts, and the events about them (with their `event_resources` rows); text as UTF-8
  bytes, numbers as 8.

Between consecutive sizes, the growth exponent log(bytes ratio) / log(calls ratio) is at most 1.1, in total and for
each of the two: a store that grew with the square of the steps (the message history kept at every step) would show
~2. The flow run's own result and rows, which hold the run's messages once, are bounded by a linear size. Every model
request and tool call is counted at its source: each ran once.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from durable_core.testing import PrefectServer
from durable_prefect import PrefectAgent
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage, UsageLimits

# Set, so that FunctionModel does not estimate it from the whole history at each request: quadratic in the steps.
USAGE = RequestUsage(input_tokens=100, output_tokens=10)

PAGES = 1000
PREFIXES = (20, 80, 320, PAGES)
"""The calls of the run measured: its first 20, 80, 320 and all 1,000 (tool calls, each after a model request)."""
PAGE_BYTES = 2000
MAX_EXPONENT = 1.1
AGENT_NAME = 'long_run_reader'
WAIT = 300.0  # a bound on waiting for the server to record a run, not an assertion on speed

_PROMPT = re.compile(r'Read (\d+) pages, one at a time\.')
_WORDS = ('durable', 'journal', 'task', 'flow', 'replay', 'page', 'agent', 'tool', 'model', 'record', 'log')

CALLS: Counter[tuple[str, int]] = Counter()
"""Every model request (`('model', n)`, the n-th of the run) and tool call (`('tool', page)`), counted at its source."""


def page_text(page: int) -> str:
    """Exactly `PAGE_BYTES` bytes of ASCII text, different for every page, the same on every call."""
    rng = random.Random(page)
    words = [f'page {page}:']
    while sum(len(word) + 1 for word in words) < PAGE_BYTES:
        words.append(rng.choice(_WORDS))
    return ' '.join(words)[:PAGE_BYTES]


def _pages_asked(messages: list[ModelMessage]) -> int:
    first = messages[0]
    assert isinstance(first, ModelRequest)
    for part in first.parts:
        if isinstance(part, UserPromptPart) and isinstance(part.content, str):
            match = _PROMPT.fullmatch(part.content)
            if match:
                return int(match[1])
    raise AssertionError('the prompt is `Read N pages, one at a time.`')


def _respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    pages = _pages_asked(messages)
    done = sum(isinstance(message, ModelResponse) for message in messages)
    CALLS['model', done + 1] += 1
    if done < pages:
        return ModelResponse(
            parts=[ToolCallPart('read_page', {'page': done + 1}, tool_call_id=f'page_{done + 1}')], usage=USAGE
        )
    return ModelResponse(parts=[TextPart(f'Read {pages} pages.')], usage=USAGE)


def read_page(page: int) -> str:
    """Read one page."""
    CALLS['tool', page] += 1
    return page_text(page)


# Every function tool of a PrefectAgent is a task by default, as every model request is.
READER = PrefectAgent(Agent(FunctionModel(_respond, model_name='reader'), name=AGENT_NAME, tools=[read_page]))


def expected_calls(pages: int) -> Counter[tuple[str, int]]:
    return Counter({('model', n): 1 for n in range(1, pages + 2)} | {('tool', n): 1 for n in range(1, pages + 1)})


# ---- what Prefect keeps of a run -------------------------------------------------------------------------------


def _storage_key(state: Any) -> str | None:
    return getattr(getattr(state, 'data', None), 'storage_key', None)


async def _last_flow_run() -> FlowRun:
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[f'{AGENT_NAME}.run'])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=1,
        )
    assert runs, 'no flow run of the agent'
    return runs[0]


async def _task_runs(flow_run_id: UUID, count: int) -> list[TaskRun]:
    """The flow run's task runs, once the server has recorded `count` of them completed with a stored result."""
    deadline = time.monotonic() + WAIT
    async with get_client() as client:
        while True:
            runs: list[TaskRun] = []
            while True:  # the API returns at most 200 at a time
                page = await client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                    sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                    offset=len(runs),
                    limit=200,
                )
                runs += page
                if len(page) < 200:
                    break
            if len(runs) >= count and all(
                run.state is not None and run.state.is_completed() and _storage_key(run.state) for run in runs
            ):
                return runs
            assert time.monotonic() < deadline, f'{len(runs)} task runs recorded, want {count} completed'
            await asyncio.sleep(0.5)


def _value_size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes):
        return len(value)
    return 8


def _server_rows(database: Path, flow_run_id: UUID | None, task_run_ids: list[UUID]) -> dict[str, int]:
    """Logical bytes per table of the server's rows about the flow run (unless `None`) and the task runs."""
    connection = sqlite3.connect(f'file:{database}?mode=ro', uri=True)
    try:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {'flow_run', 'flow_run_state', 'task_run', 'task_run_state', 'events', 'event_resources'} <= set(tables)
        flows = [str(flow_run_id)] if flow_run_id is not None else []
        tasks = [str(task_id) for task_id in task_run_ids]
        connection.execute('CREATE TEMP TABLE run_ids (id TEXT PRIMARY KEY)')
        connection.executemany('INSERT INTO run_ids VALUES (?)', [(run,) for run in (*flows, *tasks)])
        connection.execute('CREATE TEMP TABLE resource_ids (id TEXT PRIMARY KEY)')
        connection.executemany(
            'INSERT INTO resource_ids VALUES (?)',
            [*((f'prefect.flow-run.{flow}',) for flow in flows), *((f'prefect.task-run.{task}',) for task in tasks)],
        )
        wheres = {
            'flow_run': 'id IN (SELECT id FROM run_ids)',
            'task_run': 'id IN (SELECT id FROM run_ids)',
            'task_run_state_cache': 'task_run_state_id IN (SELECT id FROM task_run_state WHERE task_run_id IN '
            '(SELECT id FROM run_ids))',
            'events': 'resource_id IN (SELECT id FROM resource_ids)',
            'event_resources': 'event_id IN (SELECT id FROM events WHERE resource_id IN (SELECT id FROM resource_ids))',
        }
        for table in tables:
            columns = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
            keys = [key for key in ('flow_run_id', 'task_run_id') if key in columns]
            if table not in wheres and keys:
                wheres[table] = ' OR '.join(f'{key} IN (SELECT id FROM run_ids)' for key in keys)
        per_table: dict[str, int] = {}
        for table, where in wheres.items():
            rows = connection.execute(f'SELECT * FROM "{table}" WHERE {where}').fetchall()
            size = sum(_value_size(value) for row in rows for value in row)
            if size:
                per_table[table] = size
        return per_table
    finally:
        connection.close()


def _state_events_stored(database: Path, flow_run_id: UUID, task_run_ids: list[UUID]) -> bool:
    """Whether the server stored the Pending, Running and Completed events of the flow run and of each task run."""
    resources = [f'prefect.flow-run.{flow_run_id}', *(f'prefect.task-run.{task_id}' for task_id in task_run_ids)]
    connection = sqlite3.connect(f'file:{database}?mode=ro', uri=True)
    try:
        connection.execute('CREATE TEMP TABLE resource_ids (id TEXT PRIMARY KEY)')
        connection.executemany('INSERT INTO resource_ids VALUES (?)', [(resource,) for resource in resources])
        stored = connection.execute(
            'SELECT resource_id, event FROM events WHERE resource_id IN (SELECT id FROM resource_ids)'
        ).fetchall()
    finally:
        connection.close()
    wanted = {
        (resource, f'{resource.rsplit(".", 1)[0]}.{state}')
        for resource in resources
        for state in ('Pending', 'Running', 'Completed')
    }
    return wanted <= set(stored)


async def stored_bytes(database: Path, flow_run: FlowRun, pages: int) -> dict[int | str, dict[str, Any]]:
    """What Prefect keeps of the flow run's first calls (`PREFIXES`, task runs only) and of the flow run itself."""
    task_runs = await _task_runs(flow_run.id, 2 * pages + 1)  # a task per model request and per tool call
    files = {run.id: Path(key) for run in task_runs if (key := _storage_key(run.state))}
    flow_key = _storage_key(flow_run.state)
    assert len(files) == 2 * pages + 1, 'a task result has no storage key'
    assert flow_key is not None, 'the flow result has no storage key'
    assert all(path.is_file() for path in [*files.values(), Path(flow_key)]), 'a result is not in the storage'
    # The server records what the client reports a moment after it happens, and stores events apart from the runs
    # they update: wait until every run's Pending, Running and Completed events are stored, and its rows stop growing.
    task_run_ids = [run.id for run in task_runs]
    server: dict[str, int] = {}
    deadline = time.monotonic() + WAIT
    while True:
        latest = _server_rows(database, flow_run.id, task_run_ids)
        if latest == server and _state_events_stored(database, flow_run.id, task_run_ids):
            break
        assert time.monotonic() < deadline, 'the server did not finish recording the run (rows or state events)'
        server = latest
        await asyncio.sleep(2.0)
    out: dict[int | str, dict[str, Any]] = {}
    for calls in PREFIXES:
        first = task_runs[: 2 * calls + 1]  # the model requests and tool calls up to the `calls`-th tool call's answer
        results = sum(files[run.id].stat().st_size for run in first)
        rows = _server_rows(database, None, [run.id for run in first])
        out[calls] = {
            'bytes': results + sum(rows.values()),
            'result_storage': results,
            'server': sum(rows.values()),
            'server_per_table': rows,
            'task_runs': Counter(run.name.rsplit('-', 1)[0] for run in first),
        }
    tasks_only = _server_rows(database, None, task_run_ids)
    flow_rows = sum(server.values()) - sum(tasks_only.values())
    out['flow'] = {'result_storage': Path(flow_key).stat().st_size, 'server': flow_rows}
    return out


def growth_exponents(sizes: dict[int, int]) -> list[tuple[int, int, float]]:
    """(calls, next calls, log(bytes ratio) / log(calls ratio)) for each consecutive pair of run sizes."""
    pairs = sorted(sizes.items())
    return [(n1, n2, math.log(b2 / b1) / math.log(n2 / n1)) for (n1, b1), (n2, b2) in itertools.pairwise(pairs)]


@pytest.fixture(scope='module')
async def long_run(prefect_server: PrefectServer) -> dict[str, Any]:
    """One durable run of `PAGES` calls: its output, its calls counted at the source, and what Prefect keeps of it."""
    assert prefect_server.home is not None
    database = prefect_server.home / 'prefect.db'
    assert database.is_file(), database
    CALLS.clear()
    started = time.monotonic()
    result = await READER.run(f'Read {PAGES} pages, one at a time.', usage_limits=UsageLimits(request_limit=None))
    seconds = time.monotonic() - started
    stored = await stored_bytes(database, await _last_flow_run(), PAGES)
    for calls in PREFIXES:
        kept = stored[calls]
        print(
            f'\n[prefect] first {calls} calls: {kept["bytes"]:,} bytes = result storage {kept["result_storage"]:,} + '
            f'server {kept["server"]:,} {kept["server_per_table"]}'
        )
    print(f'[prefect] the flow run itself: {stored["flow"]}; the run took {seconds:.1f} s')
    return {'output': result.output, 'calls': Counter(CALLS), 'stored': stored}


async def test_the_1000_call_run_completes_each_step_once(long_run: dict[str, Any]) -> None:
    assert long_run['output'] == f'Read {PAGES} pages.'
    assert long_run['calls'] == expected_calls(PAGES)
    for calls in PREFIXES:
        kept = long_run['stored'][calls]
        # Each call is a task run of the flow run, with its result stored.
        assert kept['task_runs'] == {
            f'{AGENT_NAME}.model_request': calls + 1,
            f'{AGENT_NAME}.tool_call.agent.read_page': calls,
        }
        assert kept['result_storage'] >= calls * PAGE_BYTES  # every page is stored


async def test_what_prefect_keeps_grows_linearly_with_the_steps(long_run: dict[str, Any]) -> None:
    for measure in ('bytes', 'result_storage', 'server'):
        exponents = growth_exponents({calls: long_run['stored'][calls][measure] for calls in PREFIXES})
        print(
            f'\n[prefect] growth exponents of {measure}: '
            + ', '.join(f'{n1}->{n2}: {exponent:.3f}' for n1, n2, exponent in exponents)
        )
        for n1, n2, exponent in exponents:
            assert exponent <= MAX_EXPONENT, f'{measure} grew as calls^{exponent:.2f} from {n1} to {n2} calls'
    # The flow's result holds the run's messages once (each page in a tool's answer): linear, not one history a step.
    flow = long_run['stored']['flow']
    assert PAGES * PAGE_BYTES <= flow['result_storage'] < 4 * PAGES * PAGE_BYTES, flow
    assert flow['server'] < 1_000_000, flow
