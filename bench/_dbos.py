"""DBOS measurements, run in a subprocess of `bench/run` (DBOS is a process-wide singleton).

    python -m bench._dbos TASK --backend sqlite|postgres --url URL --out FILE [--params JSON]

TASK is `inprocess` (journal, overhead, throughput, log growth: all variants in one process, interleaved),
`memory` (RSS and Python heap per run, N runs held in flight; one variant per process), `first_run` (worker
start to first completed run; one variant per process) or `profile` (pyinstrument over our variant). The
result is written to FILE as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

STARTED_AT = time.time()  # before the heavy imports below: the cold-start clock of `first_run` includes them

from dbos import DBOS, SetWorkflowID  # noqa: E402

from . import _workload  # noqa: E402
from ._measure import check, growth_run_memory, heap_traced, memory_per_run, run_heap, run_sections  # noqa: E402
from ._workload import OURS, OURS_CAPABILITY, PAI_CAPABILITY, PAI_WRAPPER, Variant, prompt  # noqa: E402

DURABLE = (OURS, OURS_CAPABILITY, PAI_WRAPPER, PAI_CAPABILITY)
"""The durable variants on DBOS, in the order the journal lists them."""


def launch(url: str) -> None:
    DBOS(config={'name': 'durable-bench', 'system_database_url': url, 'log_level': 'WARNING'})
    DBOS.launch()


# ---- stored bytes ---------------------------------------------------------------------------------------------


class LogSizer:
    """Bytes a workflow left in the DBOS system tables: every row of every table keyed by `workflow_uuid`."""

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        self._sa = sa
        self.postgres = url.startswith('postgresql')
        if self.postgres and '+' not in url.split('://', 1)[0]:
            url = 'postgresql+psycopg://' + url.split('://', 1)[1]
        self.engine = sa.create_engine(url)
        schema = 'dbos' if self.postgres else None
        inspector = sa.inspect(self.engine)
        self.tables = [
            f'{schema}.{table}' if schema else table
            for table in inspector.get_table_names(schema=schema)
            if any(column['name'] == 'workflow_uuid' for column in inspector.get_columns(table, schema=schema))
        ]

    def measure(self, workflow_id: str) -> dict[str, Any]:
        """Logical bytes (text as UTF-8, bytes as is, numbers 8) per table; on PostgreSQL also on-disk bytes."""
        sa = self._sa
        per_table: dict[str, int] = {}
        rows = 0
        physical = 0
        with self.engine.connect() as connection:
            for table in self.tables:
                result = connection.execute(
                    sa.text(f'SELECT * FROM {table} WHERE workflow_uuid = :id'), {'id': workflow_id}
                ).all()
                rows += len(result)
                size = sum(_value_size(value) for row in result for value in row)
                if size:
                    per_table[table.rsplit('.', 1)[-1]] = size
                if self.postgres:
                    # pg_column_size of the whole row: after TOAST compression, as stored.
                    physical += connection.execute(
                        sa.text(
                            f'SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM {table} t WHERE workflow_uuid = :id'
                        ),
                        {'id': workflow_id},
                    ).scalar_one()
        out: dict[str, Any] = {'bytes': sum(per_table.values()), 'rows': rows, 'per_table': per_table}
        if self.postgres:
            out['pg_bytes'] = int(physical)
        return out


def _value_size(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    return 8


# ---- sections ---------------------------------------------------------------------------------------------------


async def journal(variants: dict[str, Variant], sizer: LogSizer) -> dict[str, Any]:
    """What one run of the 3-unit agent journals, per durable variant, as DBOS lists it."""
    out: dict[str, Any] = {}
    for name in DURABLE:
        if name not in variants:
            continue
        workflow_id = str(uuid.uuid4())
        with SetWorkflowID(workflow_id):
            await variants[name].run(prompt(2))
        steps = await DBOS.list_workflow_steps_async(workflow_id)
        status = await DBOS.get_workflow_status_async(workflow_id)
        out[name] = {
            'workflow': status.name if status else None,
            'steps': [step['function_name'] for step in steps],
            'stored': sizer.measure(workflow_id),
        }
    return out


async def growth(
    variants: dict[str, Variant],
    sizer: LogSizer,
    step_counts: list[int],
    payload: int,
    seed: int,
    *,
    heap: bool = False,
) -> dict[str, Any]:
    """Stored bytes of one run of N steps, ~`payload` bytes of text per message; with `heap`, the run's heap peak."""
    rng = random.Random(seed)
    durable = [name for name in DURABLE if name in variants]
    out: dict[str, Any] = {name: {} for name in durable}
    for name in durable:  # one small run first: the first run of a variant pays for one-off caches and imports
        check(await variants[name].run(prompt(2, payload)), 2)
    with heap_traced(heap):
        for steps in step_counts:
            rng.shuffle(durable)
            for name in durable:
                workflow_id = str(uuid.uuid4())
                start = time.perf_counter()
                with SetWorkflowID(workflow_id):
                    result, peak = await run_heap(variants[name].run(prompt(steps, payload)))
                seconds = time.perf_counter() - start
                check(result, steps)
                del result
                out[name][str(steps)] = sizer.measure(workflow_id) | {'seconds': seconds, 'heap_peak_bytes': peak}
    return out


async def inprocess(url: str, params: dict[str, Any]) -> dict[str, Any]:
    variants = _workload.build(params['variants'])
    launch(url)
    sizer = LogSizer(url)
    seed = params.get('seed', 0)
    out = await run_sections(
        variants,
        params,
        {
            'journal': lambda _: journal(variants, sizer),
            'growth': lambda cfg: growth(
                variants, sizer, cfg['steps'], cfg['payload'], seed, heap=cfg.get('heap', False)
            ),
        },
    )
    sizer.engine.dispose()
    return out


async def memory(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Memory per in-flight run of one variant: RSS growth, then (a second batch) Python heap via tracemalloc."""
    name: str = params['variant']
    runs: int = params['runs']
    steps: int = params['steps']
    variant = _workload.build([name])[name]
    if variant.workflow_name is not None:
        launch(url)
    return await memory_per_run(variant, name, runs, steps, warmup_batches=3, trace_heap=True)


async def run_memory(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """One growth run in this fresh process (`growth_run_memory`); DBOS runs in it, on the backend's database."""
    variant = _workload.build([params['variant']])[params['variant']]
    if variant.workflow_name is not None:
        launch(url)
    return await growth_run_memory(variant, params['variant'], params['steps'], params['payload'])


async def first_run(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Seconds from this process's start to its first completed run (the parent adds the spawn time)."""
    name: str = params['variant']
    variant = _workload.build([name])[name]
    built = time.time()
    launch(url)
    launched = time.time()
    check(await variant.run(prompt(2)), 2)
    done = time.time()
    return {'variant': name, 'started_at': STARTED_AT, 'built_at': built, 'launched_at': launched, 'done_at': done}


async def profile(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Profile sequential runs of our variant with pyinstrument; hot spots in our code are summarised."""
    from pyinstrument import Profiler

    from ._profile import our_hot_spots

    variant = _workload.build([_workload.OURS])[_workload.OURS]
    launch(url)
    steps: int = params['steps']
    text = prompt(steps)
    for _ in range(3):
        await variant.run(text)
    profiler = Profiler(interval=0.0005, async_mode='enabled')
    profiler.start()
    for _ in range(params['runs']):
        await variant.run(text)
    profiler.stop()
    Path(params['text_out']).write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    profiler.last_session.save(params['session_out'])  # `pyinstrument --load <file>` renders it again
    return {'runs': params['runs'], 'steps': steps, **our_hot_spots(profiler.last_session)}


TASKS = {
    'inprocess': inprocess,
    'memory': memory,
    'first_run': first_run,
    'profile': profile,
    'run_memory': run_memory,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('task', choices=sorted(TASKS))
    parser.add_argument('--backend', required=True)
    parser.add_argument('--url', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--params', default='{}')
    args = parser.parse_args()
    params = json.loads(args.params)

    try:
        result = asyncio.run(TASKS[args.task](args.url, params))
    finally:
        DBOS.destroy()
    result['backend'] = args.backend
    result['pid'] = os.getpid()
    Path(args.out).write_text(json.dumps(result))


if __name__ == '__main__':
    main()
