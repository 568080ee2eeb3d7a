"""Ratios and goals from the raw results, and the printed table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ._stats import linear_fit, loglog_slope, ratio
from ._workload import ALL_VARIANTS, DURABLE_VARIANTS, LABELS, OURS, PAI_CAPABILITY, PAI_WRAPPER, PLAIN

COMPETITORS = (PAI_WRAPPER, PAI_CAPABILITY)
SHORT = {PLAIN: 'plain', OURS: 'ours', PAI_WRAPPER: 'pai wrapper', PAI_CAPABILITY: 'pai capability'}

GOAL_OVERHEAD_RATIO = 0.7
GOAL_THROUGHPUT_RATIO = 1.5
GOAL_IMPORT_S = 0.3
GOAL_LINEAR_EXPONENT = 1.1  # local exponent between the two largest runs; 1.0 is linear


def load(values: Sequence[float]) -> str:
    return ' '.join(f'{v:.2f}' for v in values) + ' (1/5/15 min)'


# ---- summary ------------------------------------------------------------------------------------------------------


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def summarize(document: dict[str, Any]) -> dict[str, Any]:
    results = document['results']
    summary: dict[str, Any] = {'overhead': {}, 'throughput': {}, 'growth': {}, 'memory': {}, 'first_run': {}}
    for backend, data in (results.get('inprocess') or {}).items():
        if not data:
            continue
        for shape, shape_data in (data.get('overhead') or {}).items():
            v = shape_data['variants']
            plain = v[PLAIN]['median_s']
            row: dict[str, Any] = {'steps': shape_data['steps'], 'rounds': shape_data['rounds']}
            for name in ALL_VARIANTS:
                row[name] = {
                    'median_ms': v[name]['median_s'] * 1000,
                    'p90_ms': v[name]['p90_s'] * 1000,
                    'cpu_ms': v[name]['cpu_median_s'] * 1000,
                }
            plain_cpu = v[PLAIN]['cpu_median_s']
            for comp in COMPETITORS:
                row[f'ratio_vs_{comp}'] = ratio(v[OURS]['median_s'] - plain, v[comp]['median_s'] - plain)
                row[f'p90_ratio_vs_{comp}'] = ratio(
                    v[OURS]['p90_s'] - v[PLAIN]['p90_s'], v[comp]['p90_s'] - v[PLAIN]['p90_s']
                )
                row[f'cpu_ratio_vs_{comp}'] = ratio(
                    v[OURS]['cpu_median_s'] - plain_cpu, v[comp]['cpu_median_s'] - plain_cpu
                )
            summary['overhead'].setdefault(backend, {})[shape] = row
        for n, n_data in (data.get('throughput') or {}).items():
            rates = {name: value['median_runs_per_s'] for name, value in n_data['variants'].items()}
            row = {'runs_per_s': rates, 'rounds': n_data['rounds']}
            for comp in COMPETITORS:
                row[f'ours_vs_{comp}'] = ratio(rates[OURS], rates[comp])
            summary['throughput'].setdefault(backend, {})[n] = row
        if data.get('growth'):
            summary['growth'][backend] = _growth(data['growth'])
    for backend, variants in (results.get('memory') or {}).items():
        memory: dict[str, Any] = {}
        for measure, key in (('rss', 'per_run_bytes'), ('heap', 'heap_per_run_bytes')):
            kib = {name: value[key] / 1024 for name, value in variants.items()}
            memory[f'{measure}_kib'] = kib
            for comp in COMPETITORS:
                if OURS in kib and comp in kib:
                    memory[f'{measure}_ours_vs_{comp}'] = ratio(kib[OURS], kib[comp])
        summary['memory'][backend] = memory
    for backend, variants in (results.get('first_run') or {}).items():
        row = {name: value['total_s'] for name, value in variants.items()}
        summary['first_run'][backend] = {'total_s': row} | {
            f'ours_vs_{comp}': ratio(row[OURS], row[comp]) for comp in COMPETITORS if OURS in row and comp in row
        }
    summary['imports'] = {
        key: {'wall_ms': value.get('median_s', math.nan) * 1000, 'cpu_ms': value.get('cpu_median_s', math.nan) * 1000}
        for key, value in (results.get('imports') or {}).items()
    }
    summary['goals'] = _goals(summary)
    return summary


def _growth(growth: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, by_steps in growth.items():
        steps = sorted(int(s) for s in by_steps)
        sizes = [by_steps[str(s)]['bytes'] for s in steps]
        _, per_step = linear_fit(steps, sizes)
        out[name] = {
            'bytes': dict(zip(map(str, steps), sizes, strict=True)),
            'exponent': loglog_slope(steps, sizes),
            'exponent_last_two': loglog_slope(steps[-2:], sizes[-2:]),
            'bytes_per_step': per_step,
        }
        if 'pg_bytes' in by_steps[str(steps[0])]:
            pg = [by_steps[str(s)]['pg_bytes'] for s in steps]
            out[name]['pg_bytes'] = dict(zip(map(str, steps), pg, strict=True))
            out[name]['pg_exponent'] = loglog_slope(steps, pg)
    if OURS in out:
        largest = max(out[OURS]['bytes'], key=int)
        for comp in COMPETITORS:
            if comp in out:
                out[f'ours_vs_{comp}_at_{largest}'] = ratio(out[OURS]['bytes'][largest], out[comp]['bytes'][largest])
    return out


def _goals(summary: dict[str, Any]) -> list[dict[str, Any]]:
    goals: list[dict[str, Any]] = []

    def add(goal: str, value: float, met: bool) -> None:
        goals.append({'goal': goal, 'value': value, 'met': bool(met) and not math.isnan(value)})

    for backend, shapes in summary['overhead'].items():
        for shape, row in shapes.items():
            for comp in COMPETITORS:
                value = row[f'ratio_vs_{comp}']
                add(
                    f'overhead ratio <= {GOAL_OVERHEAD_RATIO}: {backend}, agent {shape}, vs {SHORT[comp]}',
                    value,
                    value <= GOAL_OVERHEAD_RATIO,
                )
    for backend, by_n in summary['throughput'].items():
        for n, row in by_n.items():
            for comp in COMPETITORS:
                value = row[f'ours_vs_{comp}']
                add(
                    f'throughput >= {GOAL_THROUGHPUT_RATIO}x: {backend}, {n} concurrent, vs {SHORT[comp]}',
                    value,
                    value >= GOAL_THROUGHPUT_RATIO,
                )
    for backend, growth in summary['growth'].items():
        for key, value in growth.items():
            if key.startswith('ours_vs_'):
                add(
                    f'log no bigger than competitor: {backend}, {key.removeprefix("ours_vs_")} steps (ratio)',
                    value,
                    value <= 1.0,
                )
        if OURS in growth:
            value = growth[OURS]['exponent_last_two']
            add(
                f'log growth linear: {backend}, exponent between the two largest runs',
                value,
                value <= GOAL_LINEAR_EXPONENT,
            )
    for key, times in summary['imports'].items():
        ms = times['cpu_ms']
        if key.startswith('durable_') and not math.isnan(ms):
            # CPU time: what the wall time is on an idle machine, and much less disturbed by other load.
            add(
                f'import {key} < {GOAL_IMPORT_S * 1000:.0f} ms on top of engine + pydantic-ai (CPU ms)',
                ms,
                ms < GOAL_IMPORT_S * 1000,
            )
    return goals


# ---- rendering ----------------------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [list(header), *[[_fmt(c) if not isinstance(c, str) else c for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        '  '.join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return lines


def _import_ms(entry: dict[str, Any] | None, key: str) -> Any:
    if entry is None:
        return '-'
    return 'import failed' if 'error' in entry else entry[key] * 1000


def render(document: dict[str, Any]) -> str:
    meta, summary, results = document['meta'], document['summary'], document['results']
    v = meta['versions']
    out = [
        '',
        f'== durable-agents bench ({meta["mode"]}), {meta["started_at"]}, {meta["seconds"]:.0f}s, '
        f'commit {meta["git_commit"]} ==',
        f'machine: {meta["cpus"]} CPUs, Python {meta["python"]}; pydantic-ai-slim {v["pydantic-ai-slim"]}, '
        f'dbos {v["dbos"]}',
        f'load average: start {load(meta["load_start"])}, end {load(meta["load_end"])}',
        'variants: ' + '; '.join(f'{SHORT[n]} = {LABELS[n]}' for n in ALL_VARIANTS),
        'agent A: 2 model requests + 1 tool call; agent B: 10 model requests + 9 tool calls; the tool is a DBOS step',
        'in every durable variant. Ratios compare figures of the same run, variants interleaved.',
    ]
    journal = {b: _get(results, 'inprocess', b, 'journal') for b in (results.get('inprocess') or {})}
    first_journal = next((j for j in journal.values() if j), None)
    if first_journal:
        out += ['', 'Journal of one run of agent A (DBOS step names, in order):']
        out += [f'  {SHORT[name]}: {j["workflow"]} -> {", ".join(j["steps"])}' for name, j in first_journal.items()]

    if summary['overhead']:
        out += ['', '1. Overhead per run, ms: median / p90. ratio = (ours - plain) / (competitor - plain), of medians']
        rows = []
        for backend, shapes in summary['overhead'].items():
            for shape, row in shapes.items():
                rows.append(
                    [
                        backend,
                        f'{shape} ({row["rounds"]} rounds)',
                        *(f'{row[n]["median_ms"]:.1f} / {row[n]["p90_ms"]:.1f}' for n in ALL_VARIANTS),
                        row[f'ratio_vs_{PAI_WRAPPER}'],
                        row[f'ratio_vs_{PAI_CAPABILITY}'],
                    ]
                )
        out += _table(['backend', 'agent', *(SHORT[n] for n in ALL_VARIANTS), 'ratio/wrapper', 'ratio/capab.'], rows)
        out += ['CPU ms per run (process CPU incl. DBOS threads; median), and the same ratio of CPU time:']
        rows = [
            [
                backend,
                shape,
                *(row[n]['cpu_ms'] for n in ALL_VARIANTS),
                row[f'cpu_ratio_vs_{PAI_WRAPPER}'],
                row[f'cpu_ratio_vs_{PAI_CAPABILITY}'],
            ]
            for backend, shapes in summary['overhead'].items()
            for shape, row in shapes.items()
        ]
        out += _table(['backend', 'agent', *(SHORT[n] for n in ALL_VARIANTS), 'ratio/wrapper', 'ratio/capab.'], rows)

    if summary['throughput']:
        out += ['', '2. Throughput, agent A, runs/s (median of rounds); ours / competitor']
        rows = []
        for backend, by_n in summary['throughput'].items():
            for n, row in by_n.items():
                rates = row['runs_per_s']
                rows.append(
                    [
                        backend,
                        f'{n} concurrent',
                        *(rates[name] for name in ALL_VARIANTS),
                        row[f'ours_vs_{PAI_WRAPPER}'],
                        row[f'ours_vs_{PAI_CAPABILITY}'],
                    ]
                )
        out += _table(['backend', 'in flight', *(SHORT[n] for n in ALL_VARIANTS), 'x wrapper', 'x capab.'], rows)

    if summary['growth']:
        out += ['', '3. Durable log of one run (logical bytes in DBOS system tables; ~2 KB text per message)']
        rows = []
        for backend, growth in summary['growth'].items():
            for name in DURABLE_VARIANTS:
                if name not in growth:
                    continue
                g = growth[name]
                rows.append(
                    [
                        backend,
                        SHORT[name],
                        *(str(b) for b in g['bytes'].values()),
                        g['exponent'],
                        g['exponent_last_two'],
                        f'{g["bytes_per_step"]:.0f}',
                        _fmt(g.get('pg_exponent')),
                    ]
                )
            steps = list(next(g for k, g in growth.items() if k in DURABLE_VARIANTS)['bytes'])
        header = ['backend', 'variant', *(f'{s} steps' for s in steps), 'exponent', 'last two', 'B/step', 'pg exp.']
        out += _table(header, rows)
        for backend, growth in summary['growth'].items():
            ratios = [
                f'{k.removeprefix("ours_vs_")} = {_fmt(value)}'
                for k, value in growth.items()
                if k.startswith('ours_vs_')
            ]
            out.append(f'  {backend}: ours / competitor bytes: {"; ".join(ratios)}')
        out.append(
            '  (exponent: log-log slope over all sizes; last two: between the two largest; pg exp.: the same '
            'for on-disk bytes after TOAST compression)'
        )

    if summary['memory']:
        out += ['', '4. Memory per in-flight run, KiB: RSS growth, and Python heap (tracemalloc, a second batch);']
        out += ['   runs held at their last model request; ratio = ours / competitor']
        rows = []
        for backend, memory in summary['memory'].items():
            runs = next(iter(results['memory'][backend].values()))['runs']
            for measure in ('rss', 'heap'):
                kib = memory[f'{measure}_kib']
                rows.append(
                    [
                        backend,
                        f'{measure}, {runs} runs',
                        *(kib.get(n) for n in ALL_VARIANTS),
                        memory.get(f'{measure}_ours_vs_{PAI_WRAPPER}'),
                        memory.get(f'{measure}_ours_vs_{PAI_CAPABILITY}'),
                    ]
                )
        out += _table(['backend', 'measure', *(SHORT[n] for n in ALL_VARIANTS), 'ours/wrapper', 'ours/capab.'], rows)

    if summary['first_run'] or summary['imports']:
        out += ['', '5. Cold start']
    if summary['imports']:
        imports = results['imports']
        rows = []
        for engine in ('dbos', 'temporal', 'prefect'):
            ours, theirs = imports.get(f'durable_{engine}'), imports.get(f'pai.{engine}')
            if ours is None and theirs is None:
                continue

            rows.append(
                [
                    engine,
                    _import_ms(ours, 'median_s'),
                    _import_ms(theirs, 'median_s'),
                    _import_ms(ours, 'cpu_median_s'),
                    _import_ms(theirs, 'cpu_median_s'),
                    ratio(ours['cpu_median_s'], theirs['cpu_median_s'])
                    if ours and theirs and 'error' not in ours and 'error' not in theirs
                    else math.nan,
                ]
            )
        out += ['import time on top of engine + pydantic-ai, ms (median, fresh interpreter each):']
        out += _table(['engine', 'ours wall', 'pai wall', 'ours CPU', 'pai CPU', 'ours/pai CPU'], rows)
        for key, entry in imports.items():
            if 'error' in entry:
                out.append(f'  {key}: import failed: {entry["error"][:100]}')
            if entry.get('top_modules'):
                top = ', '.join(f'{m["module"]} {m["self_ms"]:.0f}' for m in entry['top_modules'][:4])
                out.append(f'  {key} slowest modules (self ms): {top}')
    if summary['first_run']:
        out += ['worker start to first completed run of agent A, s (fresh database; median):']
        rows = []
        for backend, variants in results['first_run'].items():
            for name, r in variants.items():
                rows.append(
                    [backend, SHORT[name], r['total_s'], r['python_and_imports_s'], r['launch_s'], r['first_run_s']]
                )
        out += _table(['backend', 'variant', 'total', 'python+imports', 'DBOS launch', 'first run'], rows)

    profile = results.get('profile')
    if profile:
        out += ['', 'Profile of our DBOS path (agent B, sequential; share of sampled time):']
        for backend, p in profile.items():
            owners = ', '.join(f'{k} {v:.0%}' for k, v in p['share_by_owner'].items())
            out.append(f'  {backend}: {owners}  (full text: {p["text"]})')
            for spot in p['ours_own_time'][:6]:
                out.append(f'    {spot["share"]:6.1%}  {spot["where"]}')

    if summary['goals']:
        out += ['', 'Goals (reported, not asserted):']
        out += [f'  [{"met" if g["met"] else "NOT met"}] {g["goal"]}: {_fmt(g["value"], 3)}' for g in summary['goals']]
    if document['errors']:
        out += ['', 'Not measured / failed:']
        out += [f'  {name}: {error.splitlines()[0]}' for name, error in document['errors'].items()]
    return '\n'.join(out)
