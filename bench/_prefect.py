"""Prefect measurements, run in a subprocess of `bench/run` (Prefect reads its settings once, at import).

    python -m bench._prefect TASK --backend postgres|sqlite --url API_URL|auto --out FILE [--params JSON]

The tasks and their JSON results are those of `bench._dbos`: `inprocess` (journal, overhead, throughput, log
growth: all variants in one process, interleaved), `memory` (RSS and Python heap per run, N runs held in flight;
one variant per process), `first_run` (worker start to first completed run; one variant per process) and
`profile` (pyinstrument over our variant).

`--url` is the API URL of a running Prefect server (`http://127.0.0.1:PORT/api`): `bench/run` starts one server
for all Prefect subprocesses with `prefect_server()` below, since a server takes 9-20 s to start. `--backend`
names the server's database, for the report. `--url auto` starts a throw-away server inside this process
(PostgreSQL-backed with `--backend postgres`, else SQLite), for running a task by hand.

Every subprocess stores results in a fresh local directory (`PREFECT_LOCAL_STORAGE_PATH`), the one result storage
of every variant, and persists every result: ours and the competitor's tasks set `persist_result=True`; flows
persist theirs because `PREFECT_RESULTS_PERSIST_BY_DEFAULT=true` (the competitor's deprecated wrapper leaves its
flow's `persist_result` unset) or `persist_result=True` (ours, and the bench flows around the agents of both
capability forms). Each uses its own default serializer: JSON for ours, Prefect's default (cloudpickle) for the
competitor and for the results of the bench flows.

Prefect is imported only inside the tasks, after the environment is set; importing this module is cheap (no
Prefect), so `bench._main` can use `prefect_server()`, `LABELS`, `JOURNALS` and `MODES` from it.
"""

from __future__ import annotations

import time

STARTED_AT = time.time()  # before the heavy imports: the cold-start clock of `first_run` includes them

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from ._measure import (  # noqa: E402
    check,
    growth_run_memory,
    heap_traced,
    memory_per_run,
    projected_seconds,
    run_heap,
    run_sections,
)

PLAIN, OURS, PAI_WRAPPER, PAI_CAPABILITY = 'plain', 'ours', 'pai_wrapper', 'pai_capability'  # as in _workload
OURS_CAPABILITY = 'ours_capability'
DURABLE_VARIANTS = (OURS, OURS_CAPABILITY, PAI_WRAPPER, PAI_CAPABILITY)
COMPETITORS = (PAI_WRAPPER, PAI_CAPABILITY)

LABELS = {
    PLAIN: 'plain agent.run()',
    OURS: 'ours: durable_prefect.PrefectAgent',
    OURS_CAPABILITY: 'ours: durable_prefect.PrefectDurability',
    PAI_WRAPPER: 'pydantic-ai PrefectAgent (deprecated)',
    PAI_CAPABILITY: 'pydantic-ai PrefectDurability',
}

# What each variant stores in Prefect for one run (checked by the `journal` section, which lists the task runs).
JOURNALS = {
    PLAIN: 'nothing (not durable)',
    OURS: 'flow <name>.run: parameter `inputs` = RunInputs JSON, result = AgentRunResult JSON; one task per model '
    'request (<name>.model_request: ModelResponse JSON) and per tool call (<name>.tool_call.agent.lookup: outcome '
    'JSON); task parameters are a hash, an occurrence number and the run scope; results JSON-serialized',
    OURS_CAPABILITY: 'our bench flow wrapping agent.run(): parameter `user_prompt`, result = pickled '
    'AgentRunResult; the tasks of ours, under the same names and encoded alike (PrefectDurability runs on a '
    'PrefectAgent built around the agent)',
    PAI_WRAPPER: 'flow "<name> Run": no parameters (a closure), result = pickled AgentRunResult; one task per '
    'model request ("Model Request: scripted": pickled ModelResponse) and per tool call ("Call Tool: lookup": '
    'pickled return value); results cloudpickled (Prefect default)',
    PAI_CAPABILITY: 'our bench flow wrapping agent.run(): parameter `user_prompt`, result = pickled '
    "AgentRunResult; one task per model request and per tool call, named and pickled as the wrapper's",
}

# Sizes for Prefect, smaller than DBOS's: a Prefect run costs ~0.3-1.5 s against the server (DBOS: ~5-20 ms) and
# the server completes ~2-6 runs/s whatever the concurrency, so the DBOS sizes would take half an hour. Measured on
# 2 cores shared with another benchmark (load 4-6), server on PostgreSQL: default ~7 min (throughput at 100 in flight
# alone ~2 min), quick ~90 s; about half that on an idle machine.
MODES: dict[str, dict[str, Any]] = {
    'default': {
        'overhead': {'shapes': {'A': 2, 'B': 10}, 'rounds': {'A': 10, 'B': 5}, 'warmup': 1},
        'throughput': {'concurrency': [20, 100], 'rounds': {'20': 1, '100': 1}, 'steps': 2},
        'growth': {'steps': [20, 80, 320, 1000], 'payload': 2000, 'heap': True, 'budget_s': 600},
        'memory': {'runs': 100, 'steps': 2, 'reps': 1, 'variants': [OURS, PAI_CAPABILITY], 'heap': False},
        'first_run': {'reps': 1, 'variants': [OURS, PAI_CAPABILITY]},
    },
    'quick': {
        'overhead': {'shapes': {'A': 2, 'B': 10}, 'rounds': {'A': 2, 'B': 1}, 'warmup': 1},
        'throughput': {'concurrency': [10], 'rounds': {'10': 1}, 'steps': 2},
        'growth': {'steps': [3, 6], 'payload': 2000, 'heap': True, 'budget_s': 600},
        'memory': {'runs': 10, 'steps': 2, 'reps': 1, 'variants': [OURS], 'heap': False},
        'first_run': {'reps': 1, 'variants': [OURS]},
    },
}


# ---- the server and the client's settings -----------------------------------------------------------------------


@contextlib.contextmanager
def prefect_server(database_url: str | None = None, *, home: str | None = None) -> Iterator[Any]:
    """A throw-away `prefect server start` on 127.0.0.1; yields the `PrefectServer` (its `api_url`, `pid`).

    `database_url`: a PostgreSQL database (`postgresql://...`) for the server, else SQLite in its home. Use
    PostgreSQL: on SQLite the server serializes every write, 20 concurrent runs take ~10x longer and 100 fail with
    503 (database locked).
    """
    from durable_core.testing import PrefectServer

    env = {'PREFECT_SERVER_LOGGING_LEVEL': 'WARNING'}
    if database_url is not None:
        env['PREFECT_API_DATABASE_CONNECTION_URL'] = 'postgresql+asyncpg://' + database_url.split('://', 1)[1]
    with PrefectServer(home=home, extra_env=env) as server:
        yield server


def configure(api_url: str, home: Path) -> Path:
    """Settings of this process's Prefect client (before Prefect is imported); returns the result storage dir."""
    storage = home / 'storage'
    storage.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            'PREFECT_API_URL': api_url,
            'PREFECT_HOME': str(home),
            'PREFECT_LOCAL_STORAGE_PATH': str(storage),
            # The competitor's wrapper leaves its flow's persist_result unset: persist it like ours.
            'PREFECT_RESULTS_PERSIST_BY_DEFAULT': 'true',
            'PREFECT_LOGGING_LEVEL': 'WARNING',
            # Log shipping is no part of durability; durable-prefect's README recommends it off under load.
            'PREFECT_LOGGING_TO_API_ENABLED': 'false',
            'PREFECT_SERVER_ANALYTICS_ENABLED': 'false',
            'DO_NOT_TRACK': '1',
        }
    )
    os.environ.pop('PREFECT_PROFILES_PATH', None)
    return storage


# ---- variants ---------------------------------------------------------------------------------------------------


def build(names: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """`_workload.Variant`s on Prefect; `workflow_name` is the Prefect flow name (`None`: not durable)."""
    from pydantic_ai import Agent, Tool

    from . import _workload
    from ._workload import UNLIMITED, Variant, lookup, model

    def tool() -> Any:
        # Every function tool is a task, in ours (by default) and in the competitor's (by default): the same tool.
        return Tool(lookup, name='lookup')

    def ours() -> Variant:
        from durable_prefect import PrefectAgent

        agent = PrefectAgent(Agent(model(), name='bench_ours', tools=[tool()]))
        return Variant(OURS, functools.partial(agent.run, usage_limits=UNLIMITED), 'bench_ours.run')

    def ours_capability() -> Variant:
        from durable_prefect import PrefectDurability
        from prefect import flow

        # The same options as `ours`, in the capability form; run as 2.68's capability is (`pai_capability`).
        agent = Agent(model(), name='bench_ours_capability', tools=[tool()], capabilities=[PrefectDurability()])

        @flow(name='bench_ours_capability.run', persist_result=True)
        async def run_flow(user_prompt: str) -> Any:
            return await agent.run(user_prompt, usage_limits=UNLIMITED)

        return Variant(OURS_CAPABILITY, run_flow, 'bench_ours_capability.run')

    def pai_wrapper() -> Variant:
        from pydantic_ai.durable_exec.prefect import PrefectAgent  # pyright: ignore[reportDeprecated]

        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # deprecated in favour of PrefectDurability; users still run it
            agent = PrefectAgent(  # pyright: ignore[reportDeprecated]
                Agent(model(), name='bench_pai_wrapper', tools=[tool()])
            )
        return Variant(PAI_WRAPPER, functools.partial(agent.run, usage_limits=UNLIMITED), 'bench_pai_wrapper Run')

    def pai_capability() -> Variant:
        from prefect import flow
        from pydantic_ai.durable_exec.prefect import PrefectDurability

        agent = Agent(model(), name='bench_pai_capability', tools=[tool()], capabilities=[PrefectDurability()])

        # The capability's documented use: call agent.run() inside your own flow. It returns the whole
        # AgentRunResult, as both PrefectAgent wrappers do, so every variant persists the same result.
        @flow(name='bench_pai_capability.run', persist_result=True)
        async def run_flow(user_prompt: str) -> Any:
            return await agent.run(user_prompt, usage_limits=UNLIMITED)

        return Variant(PAI_CAPABILITY, run_flow, 'bench_pai_capability.run')

    builders: dict[str, Callable[[], Variant]] = {
        PLAIN: lambda: _workload.build([PLAIN])[PLAIN],
        OURS: ours,
        OURS_CAPABILITY: ours_capability,
        PAI_WRAPPER: pai_wrapper,
        PAI_CAPABILITY: pai_capability,
    }
    return {name: builders[name]() for name in names}


# ---- stored bytes ---------------------------------------------------------------------------------------------


class LogSizer:
    """Bytes Prefect stores for one flow run: its persisted results, and what the server keeps of its inputs.

    - `result_storage`: the files of the flow run's result and of every task run's result (found by the storage
      keys in their states, read through the API), as written: Prefect's result record, JSON with the serialized
      value (base64 for pickle) and its metadata;
    - `flow_run.parameters`: the flow run's parameters, as JSON;
    - `task_run.task_inputs`: what the server keeps of task parameters (references to upstream results, no
      values), as JSON.
    """

    def __init__(self, storage: Path) -> None:
        self.storage = storage

    async def last_flow_run(self, flow_name: str) -> Any:
        """The newest flow run of `flow_name` (the sections that measure bytes run one run at a time)."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowFilter, FlowFilterName
        from prefect.client.schemas.sorting import FlowRunSort

        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=1,
            )
        assert runs, f'no flow run of {flow_name!r}'
        return runs[0]

    async def task_runs(self, flow_run_id: Any, at_least: int, timeout: float = 30.0) -> list[Any]:
        """The flow run's task runs, once the server has recorded them all (task runs reach it as events)."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
        from prefect.client.schemas.sorting import TaskRunSort

        deadline = time.monotonic() + timeout
        async with get_client() as client:
            while True:
                runs: list[Any] = []
                while True:  # pages of the API maximum, 200: a run of 1,000 steps has 1,999 task runs
                    page = await client.read_task_runs(
                        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                        sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                        limit=200,
                        offset=len(runs),
                    )
                    runs += page
                    if len(page) < 200:
                        break
                if len(runs) >= at_least and all(
                    run.state is not None and run.state.is_completed() and _storage_key(run.state) for run in runs
                ):
                    return runs
                if time.monotonic() > deadline:
                    raise TimeoutError(f'{len(runs)} task runs recorded of flow run {flow_run_id}, want {at_least}')
                await asyncio.sleep(0.2)

    async def measure(self, flow_run: Any, steps: int) -> dict[str, Any]:
        """Bytes of `flow_run` (of `steps` steps), waiting until the server has recorded its task runs."""
        # Every variant runs a task per model request and per tool call.
        task_runs = await self.task_runs(flow_run.id, at_least=2 * steps - 1, timeout=30 + 0.1 * steps)
        keys = [_storage_key(flow_run.state), *(_storage_key(run.state) for run in task_runs)]
        files = [Path(key) for key in keys if key]
        results = sum(path.stat().st_size for path in files if path.exists())
        parameters = len(json.dumps(flow_run.parameters, default=str).encode())
        task_inputs = sum(len(json.dumps(run.model_dump(mode='json')['task_inputs']).encode()) for run in task_runs)
        return {
            'flow_run_id': str(flow_run.id),
            'task_names': [_task_name(run.name) for run in task_runs],
            'stored': {
                'bytes': results + parameters + task_inputs,
                'rows': 1 + len(task_runs),
                'files': len(files),
                'per_table': {
                    'result_storage': results,
                    'flow_run.parameters': parameters,
                    'task_run.task_inputs': task_inputs,
                },
            },
        }


def _storage_key(state: Any) -> str | None:
    return getattr(getattr(state, 'data', None), 'storage_key', None)


def _task_name(name: str) -> str:
    return name.rsplit('-', 1)[0]  # Prefect appends `-<3 hex digits>` to each task run's name


# ---- sections ---------------------------------------------------------------------------------------------------


async def journal(variants: dict[str, Any], sizer: LogSizer) -> dict[str, Any]:
    """What one run of the 3-unit agent stores, per durable variant, as the Prefect API lists it."""
    from ._workload import prompt

    flow_runs: dict[str, Any] = {}
    for name in DURABLE_VARIANTS:
        if name in variants:
            check(await variants[name].run(prompt(2)), 2)
            flow_runs[name] = await sizer.last_flow_run(variants[name].workflow_name)
    out: dict[str, Any] = {}
    for name, flow_run in flow_runs.items():  # measured after all ran: the server records task runs meanwhile
        measured = await sizer.measure(flow_run, 2)
        out[name] = {
            'workflow': variants[name].workflow_name,
            'steps': measured['task_names'],
            'stored': measured['stored'],
        }
    return out


async def growth(
    variants: dict[str, Any],
    sizer: LogSizer,
    step_counts: list[int],
    payload: int,
    seed: int,
    *,
    heap: bool = False,
    budget_s: float | None = None,
) -> dict[str, Any]:
    """Stored bytes of one run of N steps, ~`payload` bytes of text per message; with `heap`, the run's heap peak.

    `budget_s`: a competitor whose run of the next size is projected to take longer (`projected_seconds`, from
    its last two sizes) is not run at that size or larger ones; the size is recorded as `stopped`, with the
    projection. PydanticAI's run time grows as the square here: every model request task takes the whole
    conversation as its parameters, which Prefect hashes for the task's cache key and walks for its upstream
    inputs. Ours always run every size: their figure at the largest is what the growth section is for.
    """
    from ._workload import prompt

    rng = random.Random(seed)
    durable = [name for name in DURABLE_VARIANTS if name in variants]
    flow_runs: list[tuple[str, int, Any, dict[str, Any]]] = []
    seconds: dict[str, dict[int, float]] = {name: {} for name in durable}
    out: dict[str, Any] = {name: {} for name in durable}
    stopped: set[str] = set()
    for name in durable:  # one small run first: the first run of a variant pays for one-off caches and imports
        check(await variants[name].run(prompt(2, payload)), 2)
    with heap_traced(heap):
        for steps in step_counts:
            rng.shuffle(durable)
            for name in durable:
                if name in stopped:
                    continue
                projected = projected_seconds(seconds[name], steps)
                if budget_s is not None and name in COMPETITORS and projected > budget_s:
                    stopped.add(name)
                    out[name][str(steps)] = {
                        'stopped': f'one run projected to take {projected:.0f} s, over the budget of {budget_s:.0f} s',
                        'projected_s': projected,
                    }
                    continue
                start = time.perf_counter()
                result, peak = await run_heap(variants[name].run(prompt(steps, payload)))
                seconds[name][steps] = time.perf_counter() - start
                check(result, steps)
                del result
                extra = {'seconds': seconds[name][steps], 'heap_peak_bytes': peak}
                flow_runs.append((name, steps, await sizer.last_flow_run(variants[name].workflow_name), extra))
    for name, steps, flow_run, extra in flow_runs:  # measured after all ran: the server records task runs meanwhile
        out[name][str(steps)] = (await sizer.measure(flow_run, steps))['stored'] | extra
    return out


async def inprocess(storage: Path, params: dict[str, Any]) -> dict[str, Any]:
    variants = build(params['variants'])
    sizer = LogSizer(storage)
    seed = params.get('seed', 0)
    return await run_sections(
        variants,
        params,
        {
            'journal': lambda _: journal(variants, sizer),
            'growth': lambda cfg: growth(
                variants,
                sizer,
                cfg['steps'],
                cfg['payload'],
                seed,
                heap=cfg.get('heap', False),
                budget_s=cfg.get('budget_s'),
            ),
        },
    )


async def memory(storage: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Memory per in-flight run of one variant: RSS growth, then (a second batch, unless `heap` is false)
    Python heap via tracemalloc."""

    name: str = params['variant']
    runs: int = params['runs']
    steps: int = params['steps']
    variant = build([name])[name]
    # One warm-up batch by default (DBOS: three): a Prefect run is ~50x slower.
    return await memory_per_run(
        variant,
        name,
        runs,
        steps,
        warmup_batches=params.get('warmup_batches', 1),
        trace_heap=params.get('heap', True),
    )


async def run_memory(storage: Path, params: dict[str, Any]) -> dict[str, Any]:
    """One growth run in this fresh process (`growth_run_memory`), untraced: the agent loop and the client (the
    server is another process)."""
    variant = build([params['variant']])[params['variant']]
    return await growth_run_memory(variant, params['variant'], params['steps'], params['payload'])


async def first_run(storage: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Seconds from this process's start to its first completed run (the parent adds the spawn time).

    `launched_at`: after the API's health check, the nearest thing to DBOS's launch (a Prefect client has none).
    """
    from prefect.client.orchestration import get_client

    from ._workload import prompt

    name: str = params['variant']
    variant = build([name])[name]
    built = time.time()
    async with get_client() as client:
        error = await client.api_healthcheck()
        assert error is None, f'Prefect API not healthy: {error}'
    launched = time.time()
    check(await variant.run(prompt(2)), 2)
    done = time.time()
    return {'variant': name, 'started_at': STARTED_AT, 'built_at': built, 'launched_at': launched, 'done_at': done}


# pyinstrument owners for Prefect (bench._profile knows DBOS's): ours first, then Prefect's own code.
PROFILE_OWNERS = {
    'ours': ('/durable_core/', '/durable_prefect/'),
    'pydantic_ai': ('/pydantic_ai/', '/pydantic_graph/'),
    'prefect': ('/prefect/',),
    'http client': ('/httpx/', '/httpcore/', '/anyio/', '/h11/'),
    'idle event loop': ('/selectors.py',),
}


async def profile(storage: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Profile sequential runs of a variant (default ours) with pyinstrument; hot spots of ours are summarised."""
    from pyinstrument import Profiler

    from . import _profile
    from ._workload import prompt

    name = params.get('variant', OURS)
    variant = build([name])[name]
    steps: int = params['steps']
    text = prompt(steps)
    for _ in range(3):
        await variant.run(text)
    profiler = Profiler(interval=0.0005, async_mode='enabled')
    start_cpu = time.process_time()
    profiler.start()
    for _ in range(params['runs']):
        await variant.run(text)
    profiler.stop()
    cpu = time.process_time() - start_cpu
    Path(params['text_out']).write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    if params.get('session_out'):
        profiler.last_session.save(params['session_out'])  # `pyinstrument --load <file>` renders it again
    saved = dict(_profile.OWNERS)
    _profile.OWNERS.clear()
    _profile.OWNERS.update(PROFILE_OWNERS)
    try:
        spots = _profile.our_hot_spots(profiler.last_session)
    finally:
        _profile.OWNERS.clear()
        _profile.OWNERS.update(saved)
    return {'variant': name, 'runs': params['runs'], 'steps': steps, 'cpu_s': cpu, **spots}


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
    parser.add_argument('--backend', required=True, help="the Prefect server's database: postgres or sqlite")
    parser.add_argument('--url', required=True, help="the Prefect API URL, or 'auto' to start a server here")
    parser.add_argument('--out', required=True)
    parser.add_argument('--params', default='{}')
    args = parser.parse_args()
    params = json.loads(args.params)

    home = Path(tempfile.mkdtemp(prefix='bench-prefect-client-'))
    try:
        with contextlib.ExitStack() as stack:
            url = args.url
            if url == 'auto':
                database_url = None
                if args.backend == 'postgres':
                    from durable_core.testing import PostgresServer

                    database_url = stack.enter_context(PostgresServer(database='prefect')).url
                url = stack.enter_context(prefect_server(database_url)).api_url
            storage = configure(url, home)
            result = asyncio.run(TASKS[args.task](storage, params))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    result['backend'] = args.backend
    result['pid'] = os.getpid()
    Path(args.out).write_text(json.dumps(result))


if __name__ == '__main__':
    main()
