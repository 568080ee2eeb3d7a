"""Which Temporal wrapper API a drop-in program runs against: PydanticAI 2.68's, or ours.

The driver calls `select()` before it imports a program; a program's workflow module imports this module passed
through the sandbox, so its `api` is the one the driver chose, in workflow code too. `HOST_MODULES` holds modules as
the driver imported them, for programs that compare them with what workflow code imports.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

IMPLEMENTATIONS = {'pai': 'pydantic_ai.durable_exec.temporal', 'ours': 'durable_temporal'}
"""The implementations, by the name the driver and the tests use."""

api: Any = None
"""`pydantic_ai.durable_exec.temporal` or `durable_temporal`, once selected."""

HOST_MODULES: dict[str, ModuleType] = {}


def select(implementation: str) -> None:
    """Point `api` at the implementation's module."""
    global api
    api = importlib.import_module(IMPLEMENTATIONS[implementation])
