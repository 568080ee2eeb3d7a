"""The one place durable-dbos reads DBOS internals, each guarded so a DBOS change degrades to a default."""

from __future__ import annotations

from typing import Any

__all__ = ['dbos_is_launched', 'dbos_pickles_values']


def dbos_is_launched() -> bool:
    """Whether `DBOS.launch()` has run in this process (DBOS has no public flag for it)."""
    try:
        from dbos import _dbos  # pyright: ignore[reportPrivateUsage]
    except ImportError:  # pragma: no cover - guarded against a DBOS layout change
        return False
    instance: Any = getattr(_dbos, '_dbos_global_instance', None)
    return bool(getattr(instance, '_launched', False))


def dbos_pickles_values() -> bool:
    """Whether the DBOS app serializes values with DBOS's default serializer, pickle (not, say, portable JSON).

    DBOS re-serializes a workflow's result with the app's serializer whenever a handle reads it, so a result that
    the app's serializer cannot write fails there even when the workflow itself was serialized natively.
    """
    try:
        from dbos import _dbos  # pyright: ignore[reportPrivateUsage]
    except ImportError:  # pragma: no cover - guarded against a DBOS layout change
        return True
    instance: Any = getattr(_dbos, '_dbos_global_instance', None)
    serializer: Any = getattr(instance, '_serializer', None)
    name: Any = getattr(serializer, 'name', None)
    return not callable(name) or name() == 'py_pickle'
