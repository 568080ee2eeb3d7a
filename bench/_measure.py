"""Measurements every engine's task module shares: latency, throughput, runs held in flight, RSS, a run's heap.

A variant is anything with `run(prompt)`, awaited for one agent run; its result is an `AgentRunResult` or, where
the run happened in another process's workflow (Temporal), a dict with the number of its `messages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import random
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

from . import _workload
from ._stats import median, percentile
from ._workload import prompt

T = TypeVar('T')


class Runnable(Protocol):
    @property
    def run(self) -> Callable[[str], Awaitable[Any]]: ...


def rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc; ru_maxrss, the peak, elsewhere)."""
    now = _status_bytes('VmRSS')
    if now is not None:
        return now
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status_bytes(field: str) -> int | None:
    """A `kB` field of /proc/self/status, in bytes; `None` where there is none (not Linux)."""
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith(f'{field}:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_rss_peak() -> bool:
    """Reset this process's RSS peak (VmHWM) to its RSS now; false where Linux does not let us."""
    try:
        with open('/proc/self/clear_refs', 'w') as clear_refs:
            clear_refs.write('5')
    except OSError:
        return False
    return True


def check(result: Any, steps: int) -> None:
    """A run of `steps` steps ends with 2 * steps messages (a request and a response per step)."""
    count = result['messages'] if isinstance(result, dict) else len(result.all_messages())
    assert count == 2 * steps, f'{count} messages for {steps} steps'


@contextlib.contextmanager
def heap_traced(enabled: bool = True) -> Iterator[None]:
    """Trace the Python heap (tracemalloc) for the `run_heap` calls within, if `enabled`."""
    if not enabled or tracemalloc.is_tracing():
        yield
        return
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


async def run_rss_peak(run: Awaitable[T]) -> tuple[T, int | None]:
    """Await one run; with its RSS peak: the most resident bytes of this process above its RSS at the run's start.

    Unlike `run_heap` it counts native memory too (Temporal's Rust core, the sandbox's modules), and costs the run
    nothing; but what the allocator keeps after freeing counts as held. Linux only (the peak, VmHWM, is reset
    before the run), else `None`. As for `run_heap`, the run must be the only work of the process at the time.
    """
    gc.collect()
    if not _reset_rss_peak():
        return await run, None
    start = rss_bytes()
    result = await run
    peak = _status_bytes('VmHWM')
    return result, None if peak is None else peak - start


async def growth_run_memory(variant: Runnable, name: str, steps: int, payload: int) -> dict[str, Any]:
    """The `run_memory` task of an engine, in the fresh process it runs in: one growth run of `variant` after a 2-step
    warm-up run, with its RSS peak above the RSS after the warm-up (`run_rss_peak`).

    Only a fresh process tells it: in one that ran other runs first, the memory they freed and the allocator kept
    would serve this one unseen.
    """
    from ._workload import prompt

    check(await variant.run(prompt(2, payload)), 2)
    start = time.perf_counter()
    result, peak = await run_rss_peak(variant.run(prompt(steps, payload)))
    seconds = time.perf_counter() - start
    check(result, steps)
    return {'variant': name, 'steps': steps, 'rss_peak_bytes': peak, 'seconds': seconds}


async def run_heap(run: Awaitable[T]) -> tuple[T, int | None]:
    """Await one run; with its heap peak: the most bytes of Python heap it held above the heap at its start.

    Under `heap_traced()` (else `None`). It counts everything this process allocated while the run was in it
    (the agent loop, the engine's client, and on Temporal the worker: workflow sandbox and activities), as
    tracemalloc sees it: Python objects and buffers, not the engine's native memory (Temporal's Rust core). Runs
    measured this way must be the only work of the process at the time: the peak is process-wide.
    """
    if not tracemalloc.is_tracing():
        return await run, None
    gc.collect()
    tracemalloc.reset_peak()
    start, _ = tracemalloc.get_traced_memory()
    result = await run
    _, peak = tracemalloc.get_traced_memory()
    return result, peak - start


def projected_seconds(seconds: Mapping[int, float], steps: int) -> float:
    """A run's time at `steps`, from the times at smaller sizes: the last one, scaled by the log-log slope of
    the last two (at least 1, linear); NaN below two sizes."""
    sizes = sorted(s for s in seconds if s < steps)
    if len(sizes) < 2:
        return math.nan
    low, high = sizes[-2:]
    slope = math.log(seconds[high] / seconds[low]) / math.log(high / low) if seconds[low] > 0 else 1.0
    return seconds[high] * (steps / high) ** max(slope, 1.0)


async def overhead(
    variants: dict[str, Any], shapes: dict[str, int], rounds: dict[str, int], warmup: int, seed: int
) -> dict[str, Any]:
    """Latency of one run, each round running every variant once in a shuffled order."""
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    for shape, steps in shapes.items():
        text = prompt(steps)
        for variant in variants.values():
            for _ in range(warmup):
                check(await variant.run(text), steps)
        times: dict[str, list[float]] = {name: [] for name in variants}
        # CPU seconds of the whole process (the engine's threads included): less disturbed by other load.
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for _ in range(rounds[shape]):
            rng.shuffle(order)
            for name in order:
                start, start_cpu = time.perf_counter(), time.process_time()
                result = await variants[name].run(text)
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
                check(result, steps)
        out[shape] = {
            'steps': steps,
            'rounds': rounds[shape],
            'variants': {
                name: {
                    'median_s': median(values),
                    'p90_s': percentile(values, 90),
                    'cpu_median_s': median(cpu[name]),
                    'samples_s': values,
                    'cpu_samples_s': cpu[name],
                }
                for name, values in times.items()
            },
        }
    return out


async def throughput(
    variants: dict[str, Any], concurrency: list[int], rounds: dict[str, int], steps: int, seed: int
) -> dict[str, Any]:
    """Runs per second with N runs in flight at once, each round every variant once in a shuffled order."""
    rng = random.Random(seed)
    text = prompt(steps)
    out: dict[str, Any] = {}
    for n in concurrency:
        rates: dict[str, list[float]] = {name: [] for name in variants}
        order = list(variants)
        for _ in range(rounds[str(n)]):
            rng.shuffle(order)
            for name in order:
                run = variants[name].run
                start = time.perf_counter()
                results = await asyncio.gather(*(run(text) for _ in range(n)))
                rates[name].append(n / (time.perf_counter() - start))
                check(results[-1], steps)
        out[str(n)] = {
            'rounds': rounds[str(n)],
            'variants': {
                name: {'median_runs_per_s': median(values), 'samples': values} for name, values in rates.items()
            },
        }
    return out


async def hold(variant: Any, runs: int, steps: int, measure: Callable[[], int]) -> int:
    """`measure()` while `runs` runs are all in flight, held at their last model request."""
    gate = _workload.Gate(runs)
    _workload.GATE = gate
    tasks = [asyncio.create_task(variant.run(prompt(steps))) for _ in range(runs)]
    try:
        await asyncio.wait_for(gate.all_arrived.wait(), timeout=300)
        gc.collect()
        value = measure()
    finally:
        gate.release.set()
        results = await asyncio.gather(*tasks)
        _workload.GATE = None
    check(results[-1], steps)
    return value


async def run_sections(
    variants: dict[str, Any], params: dict[str, Any], own: Mapping[str, Callable[[Any], Awaitable[Any]]]
) -> dict[str, Any]:
    """The in-process sections in `params['sections']`, in order, each timed in `section_seconds`.

    Overhead and throughput are measured here; the engine gives the sections that read its durable log
    (journal, growth) in `own`, each called with that section's config from `params`.
    """
    seed = params.get('seed', 0)
    out: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for section in params['sections']:
        start = time.perf_counter()
        cfg = params.get(section)
        if section in own:
            out[section] = await own[section](cfg)
        elif section == 'overhead':
            out[section] = await overhead(variants, cfg['shapes'], cfg['rounds'], cfg['warmup'], seed)
        elif section == 'throughput':
            out[section] = await throughput(variants, cfg['concurrency'], cfg['rounds'], cfg['steps'], seed)
        timings[section] = time.perf_counter() - start
    out['section_seconds'] = timings
    return out


async def memory_per_run(
    variant: Any, name: str, runs: int, steps: int, *, warmup_batches: int, trace_heap: bool
) -> dict[str, Any]:
    """RSS growth per in-flight run, then (a second batch, if `trace_heap`) the Python heap per run."""
    # A small warm-up loads lazy modules and caches. Not a batch of `runs`: freed memory would be reused and hide
    # the growth of the measured batch.
    for _ in range(warmup_batches):
        await asyncio.gather(*(variant.run(prompt(steps)) for _ in range(5)))
    gc.collect()
    baseline = rss_bytes()
    held = await hold(variant, runs, steps, rss_bytes)
    heap: int | None = None  # not measured: null in the JSON
    if trace_heap:
        # Traced only from here, so it counts what the held runs allocated, whatever the allocator reuses.
        tracemalloc.start()
        try:
            heap = await hold(variant, runs, steps, lambda: tracemalloc.get_traced_memory()[0])
        finally:
            tracemalloc.stop()
    return {
        'variant': name,
        'runs': runs,
        'baseline_rss': baseline,
        'held_rss': held,
        'per_run_bytes': (held - baseline) / runs,
        'heap_per_run_bytes': None if heap is None else heap / runs,
    }
