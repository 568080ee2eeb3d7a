"""The cross-engine summary: tests add to it, and the session prints it at the end.

Three parts: the table of promises (`add`, `put`), one recovery-fidelity line per engine (`fidelity`): paths
tried, values compared, differences found; and one line for `tests/compat/` (`compat_outcome`, `compat_difference`):
programs run with PydanticAI 2.68's `durable_exec` and with ours, how many passed with both, and each difference.
Tests fail on an unexpected difference; the summary only reports.
"""

from __future__ import annotations

from collections import defaultdict

COLUMNS = [
    'scenarios passed',
    'kills survived',
    'duplicate executions',
    'faults injected/survived',
    'bad inputs refused',
    'secrets found',
]
_table: dict[str, dict[str, int | str]] = defaultdict(dict)
FIDELITY_COLUMNS = ['paths tried', 'values compared', 'differences found']
_fidelity: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIDELITY_COLUMNS, 0))
_compat_outcomes: dict[str, list[str]] = defaultdict(list)
_compat_differences: dict[str, str] = {}
_IMPLEMENTATIONS = ('pydantic_ai', 'ours')


def add(engine: str, column: str, amount: int = 1) -> None:
    """Add `amount` to a count in the table."""
    current = _table[engine].get(column, 0)
    assert isinstance(current, int)
    _table[engine][column] = current + amount


def put(engine: str, column: str, value: str) -> None:
    """Set a cell to a text, such as `12/12`."""
    _table[engine][column] = value


def fidelity(engine: str, compared: int, differences: int) -> None:
    """Count one recovery path tried on `engine`, with how many values it compared and how many differed."""
    counts = _fidelity[engine]
    counts['paths tried'] += 1
    counts['values compared'] += compared
    counts['differences found'] += differences


def compat_program(nodeid: str) -> str:
    """The program a `tests/compat/` test runs: its node id without the implementation it ran with."""
    name, _, params = nodeid.partition('[')
    kept = [part for part in params.rstrip(']').split('-') if part and part not in _IMPLEMENTATIONS]
    return f'{name}[{"-".join(kept)}]' if kept else name


def compat_outcome(nodeid: str, outcome: str) -> None:
    """Record how a `tests/compat/` test ended: `passed`, `failed`, `skipped` or `xfailed`."""
    _compat_outcomes[compat_program(nodeid)].append(outcome)


def compat_difference(nodeid: str, difference: str) -> None:
    """Record a deliberate or known difference between 2.68 and ours that a compat test asserts."""
    _compat_differences[compat_program(nodeid)] = difference


def render() -> list[str]:
    """The table, the fidelity lines and the compat line, or nothing when no cross-engine test ran."""
    lines = _render_table() if _table else []
    if _fidelity:
        lines.append('recovery fidelity (recovered result against the uninterrupted one):')
        for engine in sorted(_fidelity):
            counts = ', '.join(f'{column} {count}' for column, count in _fidelity[engine].items())
            lines.append(f'  {engine}: {counts}')
    if _compat_outcomes:
        both = sum(1 for outcomes in _compat_outcomes.values() if set(outcomes) == {'passed'})
        lines.append(
            f"compat (PydanticAI 2.68's durable_exec and ours): {len(_compat_outcomes)} programs run, {both} passed "
            f'with both; differences: {len(_compat_differences)}' + (':' if _compat_differences else '')
        )
        for program, difference in sorted(_compat_differences.items()):
            lines.append(f'  {program.split("::")[-1]}: {difference}')
    return lines


def _render_table() -> list[str]:
    width = max(len(engine) for engine in _table) + 2
    lines = [' ' * width + ' | '.join(COLUMNS)]
    for engine in sorted(_table):
        cells = [str(_table[engine].get(column, '-')).center(len(column)) for column in COLUMNS]
        lines.append(engine.ljust(width) + ' | '.join(cells))
    return lines
