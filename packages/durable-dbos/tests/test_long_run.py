"""A 1,000-call agent completes on DBOS (SQLite and PostgreSQL), and its journal grows linearly with its steps.

The agent reads 1,000 pages, one sequential tool call each (every page 2,000 bytes of text of its own), then answers
`Read 1000 pages.`; every tool call is a DBOS step (`tool_step_config=StepConfig()`), as is every model request. The
journal of the run's first 20, 80, 320 and 1,000 calls (its step rows, in step-id order) is measured as
`bench/_dbos.py`'s `LogSizer` does: text as UTF-8 bytes, numbers as 8; on PostgreSQL also as stored
(`pg_column_size`, after TOAST compression). Between consecutive sizes, the growth exponent log(bytes ratio) /
log(calls ratio) is at most 1.1: a journal that grew with the square of the steps (the message history at every
step) would show ~2. The rows of the workflow itself (its status, inputs and output, which holds the run's messages
once) in every DBOS system table are bounded by a linear size. Every model request and tool call is counted at its
source: each ran once.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from _support import step_names, system_database
from conftest import DbosBackend
from dbos import DBOS, SetWorkflowID
from durable_dbos import DBOSAgent, StepConfig
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

_PROMPT = re.compile(r'Read (\d+) pages, one at a time\.')
_WORDS = ('durable', 'journal', 'step', 'workflow', 'replay', 'page', 'agent', 'tool', 'model', 'record', 'log')

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


# Created at import time, before the session's DBOS.launch(): DBOS registers the workflow and its steps then.
READER = DBOSAgent(
    Agent(FunctionModel(_respond, model_name='reader'), name=AGENT_NAME, tools=[read_page]),
    tool_step_config=StepConfig(),
)


def expected_calls(pages: int) -> Counter[tuple[str, int]]:
    return Counter({('model', n): 1 for n in range(1, pages + 2)} | {('tool', n): 1 for n in range(1, pages + 1)})


def _value_size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    return 8


def log_size(system_database_url: str, workflow_id: str) -> dict[str, Any]:
    """The bytes of the workflow (and its child workflows) in every DBOS system table, per table.

    Tables keyed by `workflow_uuid`, and `notifications` by `destination_uuid`; child workflows are found by
    `workflow_status.parent_workflow_id`. On PostgreSQL, `pg_bytes` is the rows' size as stored.
    """
    import sqlalchemy as sa

    with system_database(system_database_url) as (connection, schema):
        postgres = bool(schema)
        inspector = sa.inspect(connection)
        keyed: list[tuple[str, str]] = []
        for table in inspector.get_table_names(schema=schema.rstrip('.') or None):
            columns = {column['name'] for column in inspector.get_columns(table, schema=schema.rstrip('.') or None)}
            if 'workflow_uuid' in columns:
                keyed.append((table, 'workflow_uuid'))
            elif table == 'notifications':  # messages sent to a workflow
                keyed.append((table, 'destination_uuid'))
        assert {'workflow_status', 'operation_outputs', 'workflow_input', 'workflow_output'} <= {t for t, _ in keyed}

        ids = [workflow_id]
        frontier = [workflow_id]
        while frontier:
            children = connection.execute(
                sa.text(
                    f'SELECT workflow_uuid FROM {schema}workflow_status WHERE parent_workflow_id IN :ids'
                ).bindparams(sa.bindparam('ids', expanding=True)),
                {'ids': frontier},
            ).scalars()
            frontier = [child for child in children if child not in ids]
            ids += frontier

        per_table: dict[str, int] = {}
        rows = 0
        pg_bytes = 0
        for table, key in keyed:
            where = sa.text(f'SELECT * FROM {schema}{table} WHERE {key} IN :ids').bindparams(
                sa.bindparam('ids', expanding=True)
            )
            found = connection.execute(where, {'ids': ids}).all()
            rows += len(found)
            size = sum(_value_size(value) for row in found for value in row)
            if size:
                per_table[table] = size
            if postgres:
                pg_bytes += connection.execute(
                    sa.text(
                        f'SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM {schema}{table} t WHERE {key} IN :ids'
                    ).bindparams(sa.bindparam('ids', expanding=True)),
                    {'ids': ids},
                ).scalar_one()
    out: dict[str, Any] = {
        'bytes': sum(per_table.values()),
        'rows': rows,
        'workflows': len(ids),
        'per_table': per_table,
    }
    if postgres:
        out['pg_bytes'] = int(pg_bytes)
    return out


def step_rows(system_database_url: str, workflow_id: str) -> list[tuple[str, int, int]]:
    """The workflow's step rows (`operation_outputs`) in step-id order: (function name, bytes, bytes as stored).

    Bytes as stored are `pg_column_size` of the row on PostgreSQL, 0 on SQLite.
    """
    import sqlalchemy as sa

    with system_database(system_database_url) as (connection, schema):
        stored = 'pg_column_size(t.*)' if schema else '0'
        found = connection.execute(
            sa.text(
                f'SELECT t.*, {stored} AS durable_stored_bytes FROM {schema}operation_outputs t '
                'WHERE workflow_uuid = :id ORDER BY function_id'
            ),
            {'id': workflow_id},
        ).mappings()
        return [
            (
                str(row['function_name']),
                sum(_value_size(value) for key, value in row.items() if key != 'durable_stored_bytes'),
                int(row['durable_stored_bytes']),
            )
            for row in found
        ]


def journal_prefixes(rows: list[tuple[str, int, int]]) -> dict[int, dict[str, Any]]:
    """For each of `PREFIXES`, the step rows up to the model request that answers that many tool calls: the bytes."""
    out: dict[int, dict[str, Any]] = {}
    units = 0
    logical = stored = 0
    steps: Counter[str] = Counter()
    for name, size, as_stored in rows:
        logical += size
        stored += as_stored
        if name.startswith(f'{AGENT_NAME}.'):
            units += 1
            steps[name] += 1
            calls = (units - 1) // 2  # model request, then tool call, ...: 2k+1 units answer k tool calls
            if units % 2 == 1 and calls in PREFIXES:
                out[calls] = {'bytes': logical, 'pg_bytes': stored, 'steps': Counter(steps)}
    return out


def growth_exponents(sizes: dict[int, int]) -> list[tuple[int, int, float]]:
    """(calls, next calls, log(bytes ratio) / log(calls ratio)) for each consecutive pair of run sizes."""
    pairs = sorted(sizes.items())
    return [(n1, n2, math.log(b2 / b1) / math.log(n2 / n1)) for (n1, b1), (n2, b2) in itertools.pairwise(pairs)]


@pytest.fixture(scope='module')
async def long_run(dbos: DBOS, dbos_backend: DbosBackend) -> dict[str, Any]:
    """One durable run of `PAGES` calls on this backend: its output, its calls counted at the source, its journal."""
    CALLS.clear()
    workflow_id = f'long-run-{PAGES}-{uuid.uuid4()}'
    started = time.monotonic()
    with SetWorkflowID(workflow_id):
        result = await READER.run(f'Read {PAGES} pages, one at a time.', usage_limits=UsageLimits(request_limit=None))
    seconds = time.monotonic() - started
    rows = step_rows(dbos_backend.system_database_url, workflow_id)
    whole = log_size(dbos_backend.system_database_url, workflow_id)
    prefixes = journal_prefixes(rows)
    for calls, journal in prefixes.items():
        print(
            f'\n[dbos/{dbos_backend.name}] first {calls} calls: {journal["bytes"]:,} bytes of step rows'
            + (f' ({journal["pg_bytes"]:,} as stored)' if dbos_backend.name == 'postgres' else '')
        )
    print(f'[dbos/{dbos_backend.name}] the whole workflow: {whole}; the run took {seconds:.1f} s')
    return {
        'output': result.output,
        'calls': Counter(CALLS),
        'steps': Counter(await step_names(workflow_id)),
        'rows': rows,
        'prefixes': prefixes,
        'whole': whole,
    }


async def test_the_1000_call_run_completes_each_step_once(long_run: dict[str, Any]) -> None:
    assert long_run['output'] == f'Read {PAGES} pages.'
    assert long_run['calls'] == expected_calls(PAGES)
    # Each call is in the journal: a step per model request and per tool call.
    assert long_run['steps'] == {
        f'{AGENT_NAME}.model_request': PAGES + 1,
        f'{AGENT_NAME}.tool_call.agent.read_page': PAGES,
    }
    assert sorted(long_run['prefixes']) == list(PREFIXES)
    for calls, journal in long_run['prefixes'].items():
        assert journal['steps'] == {
            f'{AGENT_NAME}.model_request': calls + 1,
            f'{AGENT_NAME}.tool_call.agent.read_page': calls,
        }
        assert journal['bytes'] >= calls * PAGE_BYTES  # every page read by then is journaled


async def test_the_journal_grows_linearly_with_the_steps(long_run: dict[str, Any], dbos_backend: DbosBackend) -> None:
    measures = ['bytes', 'pg_bytes'] if dbos_backend.name == 'postgres' else ['bytes']
    for measure in measures:
        exponents = growth_exponents({calls: journal[measure] for calls, journal in long_run['prefixes'].items()})
        print(
            f'\n[dbos/{dbos_backend.name}] growth exponents of {measure}: '
            + ', '.join(f'{n1}->{n2}: {exponent:.3f}' for n1, n2, exponent in exponents)
        )
        for n1, n2, exponent in exponents:
            assert exponent <= MAX_EXPONENT, f'{measure} grew as calls^{exponent:.2f} from {n1} to {n2} calls'
    # The workflow's own rows (status, inputs, the output that holds the run's messages once) and its step rows: the
    # whole journal is linear in the calls, not one message history per step.
    whole = long_run['whole']
    steps = sum(size for _, size, _ in long_run['rows'])
    assert whole['workflows'] == 1
    assert whole['per_table']['operation_outputs'] == steps
    assert whole['bytes'] - steps < 4 * PAGES * PAGE_BYTES, whole
