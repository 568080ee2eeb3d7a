"""The cross-engine summary table: tests add to it, and the session prints it at the end."""

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


def add(engine: str, column: str, amount: int = 1) -> None:
    """Add `amount` to a count in the table."""
    current = _table[engine].get(column, 0)
    assert isinstance(current, int)
    _table[engine][column] = current + amount


def put(engine: str, column: str, value: str) -> None:
    """Set a cell to a text, such as `12/12`."""
    _table[engine][column] = value


def render() -> list[str]:
    """The table as lines, or nothing when no cross-engine test ran."""
    if not _table:
        return []
    width = max(len(engine) for engine in _table) + 2
    lines = [' ' * width + ' | '.join(COLUMNS)]
    for engine in sorted(_table):
        cells = [str(_table[engine].get(column, '-')).center(len(column)) for column in COLUMNS]
        lines.append(engine.ljust(width) + ' | '.join(cells))
    return lines
