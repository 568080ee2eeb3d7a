"""The cross-engine summary: tests add to it, and the session prints it at the end.

Two parts: the table of promises (`add`, `put`), and one recovery-fidelity line per engine (`fidelity`): paths
tried, values compared, differences found. Tests fail on a difference; the summary only reports.
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


def render() -> list[str]:
    """The table and the fidelity lines, or nothing when no cross-engine test ran."""
    lines = _render_table() if _table else []
    if _fidelity:
        lines.append('recovery fidelity (recovered result against the uninterrupted one):')
        for engine in sorted(_fidelity):
            counts = ', '.join(f'{column} {count}' for column, count in _fidelity[engine].items())
            lines.append(f'  {engine}: {counts}')
    return lines


def _render_table() -> list[str]:
    width = max(len(engine) for engine in _table) + 2
    lines = [' ' * width + ' | '.join(COLUMNS)]
    for engine in sorted(_table):
        cells = [str(_table[engine].get(column, '-')).center(len(column)) for column in COLUMNS]
        lines.append(engine.ljust(width) + ' | '.join(cells))
    return lines
