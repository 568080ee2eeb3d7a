"""The one place durable-dbos reads DBOS internals, each guarded so a DBOS change degrades to a default."""

from __future__ import annotations

from typing import Any

__all__ = ['dbos_is_launched']


def dbos_is_launched() -> bool:
    """Whether `DBOS.launch()` has run in this process (DBOS has no public flag for it)."""
    try:
        from dbos import _dbos  # pyright: ignore[reportPrivateUsage]
    except ImportError:  # pragma: no cover - guarded against a DBOS layout change
        return False
    instance: Any = getattr(_dbos, '_dbos_global_instance', None)
    return bool(getattr(instance, '_launched', False))
