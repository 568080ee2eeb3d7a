"""Temporal measurements, run in a subprocess of `bench/run`, against a Temporal dev server it was given.

    python -m bench._temporal TASK --backend dev --url HOST:PORT --out FILE [--params JSON]

The same tasks and result shapes as `bench._dbos`: `inprocess` (journal, overhead, throughput, history growth: all
variants in one process, interleaved), `memory`, `first_run` and `profile`. `bench/run` starts one dev server
(`durable_core.testing.TemporalDevServer`) and passes its target to every task: a server is infrastructure that
outlives workers, so a worker's cold start is measured against a running server, as in production, and no task
pays for its start-up. Every process uses task queues of its own, so tasks never see each other's work.

Each durable variant runs in its own worker (its own task queue), all in this process, with Temporal's default
worker options; its runs are started by this process's client and awaited to their result. A variant's workflow
lives in its own importable module (`bench._temporal_<variant>`): the sandbox executes it again for every run.
Our workflows use our `PydanticAIPlugin`'s client, PydanticAI's their own plugin's: each plugin brings a data
converter, so a client can carry only one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTED_AT = time.time()  # before the heavy imports below: the cold-start clock of `first_run` includes them

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from . import _workload  # noqa: E402
from ._measure import check, growth_run_memory, heap_traced, memory_per_run, run_heap, run_sections  # noqa: E402
from ._stats import median, percentile  # noqa: E402
from ._workload import OURS, OURS_CAPABILITY, OURS_LOCAL, PAI_CAPABILITY, PAI_WRAPPER, PLAIN, prompt  # noqa: E402

# variant -> (module with its workflow, the workflow's class, the plugin family whose client runs it)
WORKFLOWS = {
    OURS: ('bench._temporal_ours', 'OursWorkflow', 'ours'),
    OURS_LOCAL: ('bench._temporal_ours_local', 'OursLocalWorkflow', 'ours'),
    OURS_CAPABILITY: ('bench._temporal_ours_capability', 'OursCapabilityWorkflow', 'ours'),
    PAI_WRAPPER: ('bench._temporal_pai_wrapper', 'PaiWrapperWorkflow', 'pai'),
    PAI_CAPABILITY: ('bench._temporal_pai_capability', 'PaiCapabilityWorkflow', 'pai'),
}


@dataclass
class Variant:
    name: str
    run_workflow: Callable[[str, str], Awaitable[Any]] | None
    """Start a run of the variant's workflow with this id and await its result (None: the plain agent)."""
    plain_run: Callable[[str], Awaitable[Any]] | None = None
    client: Client | None = None
    workflow_name: str | None = None

    async def run(self, text: str) -> Any:
        if self.run_workflow is None:
            assert self.plain_run is not None
            return await self.plain_run(text)
        return await self.run_workflow(text, f'{self.name}-{uuid.uuid4()}')

    async def run_with_id(self, text: str, workflow_id: str) -> Any:
        assert self.run_workflow is not None
        return await self.run_workflow(text, workflow_id)

    def handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        assert self.client is not None
        return self.client.get_workflow_handle(workflow_id)


async def _client(target: str, family: str) -> Client:
    if family == 'ours':
        from durable_temporal import PydanticAIPlugin

        return await Client.connect(target, plugins=[PydanticAIPlugin()])
    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin as TheirPlugin

    return await Client.connect(target, plugins=[TheirPlugin()])


def build(names: list[str]) -> dict[str, Any]:
    """Import the variants' workflow modules (the plain agent is built here): what a worker process imports."""
    built: dict[str, Any] = {}
    for name in names:
        if name == PLAIN:
            built[name] = _workload.build([PLAIN])[PLAIN]
        else:
            module, cls, _ = WORKFLOWS[name]
            built[name] = getattr(importlib.import_module(module), cls)
    return built


async def launch(
    target: str, built: dict[str, Any], stack: contextlib.AsyncExitStack, **worker_options: Any
) -> dict[str, Variant]:
    """Connect a client per plugin family and start one worker per durable variant."""
    clients: dict[str, Client] = {}
    variants: dict[str, Variant] = {}
    for name, item in built.items():
        if name == PLAIN:
            variants[name] = Variant(name, None, plain_run=item.run)
            continue
        _, _, family = WORKFLOWS[name]
        if family not in clients:
            clients[family] = await _client(target, family)
        client = clients[family]
        task_queue = f'bench-{name}-{uuid.uuid4().hex[:12]}'
        await stack.enter_async_context(Worker(client, task_queue=task_queue, workflows=[item], **worker_options))

        workflow_name = f'bench_{name}'  # each module's @workflow.defn(name=...)

        async def run_workflow(
            text: str, workflow_id: str, client: Client = client, queue: str = task_queue, wf: str = workflow_name
        ) -> Any:
            return await client.execute_workflow(wf, text, id=workflow_id, task_queue=queue)

        variants[name] = Variant(name, run_workflow, client=client, workflow_name=workflow_name)
    return variants


# ---- stored bytes ---------------------------------------------------------------------------------------------


async def history(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """The workflow's history as the client fetches it: bytes (protobuf, as the server stores it) and events."""
    return _history_size(list((await handle.fetch_history()).events))


def _history_size(events: list[Any]) -> dict[str, Any]:
    return {
        'bytes': sum(event.ByteSize() for event in events),
        'rows': len(events),
        'payload_bytes': sum(_payload_bytes(event) for event in events),
    }


def _payload_bytes(event: Any) -> int:
    """Bytes of payload data in one event (activity inputs and results, workflow input and result)."""
    total = 0
    for field, value in event.ListFields():
        if field.name.endswith('_attributes'):
            for sub, payloads in value.ListFields():
                if sub.name in ('input', 'result') and hasattr(payloads, 'payloads'):
                    total += sum(len(p.data) for p in payloads.payloads)
    return total


async def activity_types(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The activities the workflow ran, in order (local ones from their markers)."""
    names: list[str] = []
    for event in (await handle.fetch_history()).events:
        if event.HasField('activity_task_scheduled_event_attributes'):
            names.append(event.activity_task_scheduled_event_attributes.activity_type.name)
        elif event.HasField('marker_recorded_event_attributes'):
            attributes = event.marker_recorded_event_attributes
            details = attributes.details
            if attributes.marker_name == 'core_local_activity' and 'data' in details:
                data = json.loads(details['data'].payloads[0].data)
                names.append(f'{data.get("activity_type", "?")} (local)')
    return names


# ---- sections ---------------------------------------------------------------------------------------------------


async def journal(variants: dict[str, Variant]) -> dict[str, Any]:
    """What one run of the 3-unit agent records, per durable variant: the activities, from the history."""
    out: dict[str, Any] = {}
    for name, variant in variants.items():
        if variant.run_workflow is None:
            continue
        workflow_id = f'{name}-journal-{uuid.uuid4()}'
        await variant.run_with_id(prompt(2), workflow_id)
        handle = variant.handle(workflow_id)
        out[name] = {
            'workflow': variant.workflow_name,
            'steps': await activity_types(handle),
            'stored': await history(handle),
        }
    return out


async def growth(
    variants: dict[str, Variant], step_counts: list[int], payload: int, seed: int, *, heap: bool = False
) -> dict[str, Any]:
    """History bytes of one run of N steps, ~`payload` bytes of text per message; with `heap`, the run's heap peak.

    One size after the other, every variant's run of a size at once: sizes do not depend on timing, and one after
    the other they would wait on the server's round trips. With `heap`, one run at a time: the heap peak is the
    process's, which holds the worker (the workflow and its activities) and the client. A run the server
    terminates (PydanticAI's TemporalAgent sends the whole conversation in every model request: its history grows
    as the square and reaches the server's history size limit, ~50 MB, at about 174 tool calls) is recorded as
    `stopped`, with its history up to there and the tool calls it completed; that variant does not run the larger
    sizes.
    """
    durable = [name for name, variant in variants.items() if variant.run_workflow is not None]
    rng = random.Random(seed)
    out: dict[str, Any] = {name: {} for name in durable}
    stopped: set[str] = set()

    async def one(name: str, steps: int) -> dict[str, Any]:
        workflow_id = f'{name}-growth-{uuid.uuid4()}'
        handle = variants[name].handle(workflow_id)
        start = time.perf_counter()
        try:
            result, peak = await run_heap(variants[name].run_with_id(prompt(steps, payload), workflow_id))
            check(result, steps)
        except WorkflowFailureError as error:
            if (await handle.describe()).status != WorkflowExecutionStatus.TERMINATED:
                raise
            seconds = time.perf_counter() - start
            events = list((await handle.fetch_history()).events)
            reason = next(
                (
                    e.workflow_execution_terminated_event_attributes.reason
                    for e in events
                    if e.HasField('workflow_execution_terminated_event_attributes')
                ),
                str(error.cause or error),
            )
            return _history_size(events) | {
                'seconds': seconds,
                'stopped': reason,
                'tool_calls': _completed_tool_calls(events),
            }
        seconds = time.perf_counter() - start
        return await history(handle) | {'seconds': seconds, 'heap_peak_bytes': peak}

    for name in durable:  # one small run first: the first run of a variant pays for one-off caches and imports
        check(await variants[name].run(prompt(2, payload)), 2)
    for steps in step_counts:
        names = [name for name in durable if name not in stopped]
        rng.shuffle(names)
        start = time.perf_counter()
        with heap_traced(heap):
            if heap:
                sizes = [await one(name, steps) for name in names]
            else:
                sizes = await asyncio.gather(*(one(name, steps) for name in names))
        wall = time.perf_counter() - start
        for name, size in zip(names, sizes, strict=True):
            out[name][str(steps)] = size | {'size_wall_s': wall}
            if 'stopped' in size:
                stopped.add(name)
    return out


def _completed_tool_calls(events: list[Any]) -> int:
    """Tool calls that completed, from the history: completed activities (and local-activity markers) of a tool."""
    types: dict[int, str] = {}
    count = 0
    for event in events:
        if event.HasField('activity_task_scheduled_event_attributes'):
            types[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.HasField('activity_task_completed_event_attributes'):
            scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
            count += _is_tool(types.get(scheduled, ''))
        elif event.HasField('marker_recorded_event_attributes'):
            details = event.marker_recorded_event_attributes.details
            if 'data' in details:
                count += _is_tool(json.loads(details['data'].payloads[0].data).get('activity_type', ''))
    return count


def _is_tool(activity_type: str) -> bool:
    # ours: `<agent>.tool_call.<toolset>.<tool>`; PydanticAI's: `agent__<agent>__toolset__<id>__call_tool`
    return '.tool_call.' in activity_type or activity_type.endswith('__call_tool')


async def floor(
    target: str, stack: contextlib.AsyncExitStack, shapes: dict[str, int], rounds: dict[str, int]
) -> dict[str, Any]:
    """The server's floor: a bare workflow with as many no-op activities as an agent run of each shape has units."""
    from ._temporal_floor import FloorWorkflow, noop

    client = await Client.connect(target)
    task_queue = f'bench-floor-{uuid.uuid4().hex[:12]}'
    await stack.enter_async_context(Worker(client, task_queue=task_queue, workflows=[FloorWorkflow], activities=[noop]))
    out: dict[str, Any] = {}
    for shape, steps in shapes.items():
        activities = 2 * steps - 1  # `steps` model requests and `steps - 1` tool calls
        times: list[float] = []
        for i in range(rounds[shape] + 1):  # the first one warms up
            start = time.perf_counter()
            await client.execute_workflow(
                FloorWorkflow.run, activities, id=f'floor-{uuid.uuid4()}', task_queue=task_queue
            )
            if i:
                times.append(time.perf_counter() - start)
        out[shape] = {'activities': activities, 'median_s': median(times), 'p90_s': percentile(times, 90)}
    return out


async def inprocess(url: str, params: dict[str, Any]) -> dict[str, Any]:
    built = build(params['variants'])
    seed = params.get('seed', 0)
    async with contextlib.AsyncExitStack() as stack:
        variants = await launch(url, built, stack)
        out = await run_sections(
            variants,
            params,
            {
                'journal': lambda _: journal(variants),
                'growth': lambda cfg: growth(variants, cfg['steps'], cfg['payload'], seed, heap=cfg.get('heap', False)),
            },
        )
        if 'overhead' in params['sections']:
            cfg = params['overhead']
            out['floor'] = await floor(url, stack, cfg['shapes'], cfg['rounds'])
    return out


async def memory(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Memory per in-flight run of one variant: RSS growth, then (a second batch) Python heap via tracemalloc.

    Client and worker share this process, as in `inprocess`: the RSS counts the workflows' sandboxes and cached
    state, the activities and the client's pending calls.
    """
    name: str = params['variant']
    runs: int = params['runs']
    steps: int = params['steps']
    async with contextlib.AsyncExitStack() as stack:
        variant = (await launch(url, build([name]), stack))[name]
        # tracemalloc crashes this process now and then (SIGSEGV in a thread of the SDK's Rust core, no Python
        # frame), so the Python heap is only traced on request (`trace_heap`).
        return await memory_per_run(
            variant, name, runs, steps, warmup_batches=3, trace_heap=params.get('trace_heap', False)
        )


async def run_memory(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """One growth run in this fresh process (`growth_run_memory`); client and worker share it, as in `inprocess`, and
    its RSS counts native memory too (the SDK's Rust core)."""
    async with contextlib.AsyncExitStack() as stack:
        variant = (await launch(url, build([params['variant']]), stack))[params['variant']]
        return await growth_run_memory(variant, params['variant'], params['steps'], params['payload'])


async def first_run(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Seconds from this process's start to its first completed run (the parent adds the spawn time)."""
    name: str = params['variant']
    built_variants = build([name])
    built = time.time()
    async with contextlib.AsyncExitStack() as stack:
        variant = (await launch(url, built_variants, stack))[name]
        launched = time.time()
        check(await variant.run(prompt(2)), 2)
        done = time.time()
    return {'variant': name, 'started_at': STARTED_AT, 'built_at': built, 'launched_at': launched, 'done_at': done}


async def profile(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Profile sequential runs of our variant with pyinstrument, the event loop and the workflow thread alike.

    Temporal runs workflow activations in a thread pool, which a profiler of the event loop's thread never sees;
    the worker gets a one-thread pool whose thread runs a profiler of its own, and the two sessions are combined.
    The event loop's profiler samples the whole thread (not only the awaiting task): activities, the worker's
    and the client's asyncio code run there.
    """
    from pyinstrument import Profiler
    from pyinstrument.session import Session

    from ._profile import our_hot_spots

    name = params.get('variant', OURS)
    interval = 0.0005
    thread_profiler: list[Any] = []

    def start_thread_profiler() -> None:
        profiler = Profiler(interval=interval, async_mode='disabled')
        thread_profiler.append(profiler)

    executor = ThreadPoolExecutor(max_workers=1, initializer=start_thread_profiler, thread_name_prefix='workflow')
    steps: int = params['steps']
    text = prompt(steps)
    async with contextlib.AsyncExitStack() as stack:
        variant = (await launch(url, build([name]), stack, workflow_task_executor=executor))[name]
        for _ in range(3):
            await variant.run(text)
        executor.submit(lambda: thread_profiler[0].start()).result()
        profiler = Profiler(interval=interval, async_mode='disabled')
        profiler.start()
        start = time.perf_counter()
        for _ in range(params['runs']):
            await variant.run(text)
        wall = time.perf_counter() - start
        profiler.stop()
        executor.submit(lambda: thread_profiler[0].stop()).result()
    executor.shutdown()
    loop_session = profiler.last_session
    workflow_session = thread_profiler[0].last_session
    session = Session.combine(loop_session, workflow_session)
    Path(params['text_out']).write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    Path(params['text_out']).with_suffix('.workflow-thread.txt').write_text(
        thread_profiler[0].output_text(unicode=False, color=False, show_all=False)
    )
    session.save(params['session_out'])  # `pyinstrument --load <file>` renders it again
    return {
        'runs': params['runs'],
        'steps': steps,
        'wall_s': wall,
        'event_loop_s': loop_session.duration,
        'workflow_thread_cpu_s': workflow_session.cpu_time,
        **our_hot_spots(session),
    }


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
    parser.add_argument('--url', required=True, help='the dev server target, host:port')
    parser.add_argument('--out', required=True)
    parser.add_argument('--params', default='{}')
    args = parser.parse_args()
    params = json.loads(args.params)
    result = asyncio.run(TASKS[args.task](args.url, params))
    result['backend'] = args.backend
    result['pid'] = os.getpid()
    Path(args.out).write_text(json.dumps(result))
    # The SDK's Rust runtime threads outlive asyncio.run and abort the interpreter's finalization
    # (PyGILState_Release); the result is written, so leave without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == '__main__':
    main()
