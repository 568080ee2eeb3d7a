"""``durable_dbos.__all__``: sorted, unique, defined, and naming every public name its ``__init__`` binds."""

from __future__ import annotations

import durable_dbos
from durable_core.testing import public_api_problems

PYDANTIC_AI_2_68_NAMES = [
    'ChildWorkflowConfig',
    'DBOSAgent',
    'DBOSDurability',
    'DBOSModel',
    'DBOSOperationNamer',
    'DBOSParallelExecutionMode',
    'StepConfig',
]
"""`pydantic_ai.durable_exec.dbos.__all__` of PydanticAI 2.68, pinned here (tests/compat checks ours against the
installed one)."""


def test_public_api_is_complete_and_sorted() -> None:
    assert public_api_problems(durable_dbos) == []


def test_every_name_2_68_code_imports_is_public() -> None:
    assert [name for name in PYDANTIC_AI_2_68_NAMES if name not in durable_dbos.__all__] == []
