"""Warnings of durable-dbos: each a `UserWarning` subclass, so it can be filtered by category."""

from __future__ import annotations

__all__ = ['CreatedAfterLaunchWarning']


class CreatedAfterLaunchWarning(UserWarning):
    """A `DBOSAgent` was created after `DBOS.launch()`: it runs, but DBOS may not recover its workflows.

    DBOS does the same for a configured instance registered after launch (it logs a warning and registers it). At
    launch, DBOS recovers the workflows left pending, and by default computes the application version from the
    workflows registered by then; an agent created later misses both. The fix is to create every `DBOSAgent` at
    import time, before `DBOS.launch()`. To silence it where a late agent is intended (a test, a notebook):
    `warnings.filterwarnings('ignore', category=CreatedAfterLaunchWarning)`.
    """
