"""``durable_prefect.__all__``: sorted, unique, defined, and naming every public name its ``__init__`` binds."""

from __future__ import annotations

import durable_prefect
from durable_core.testing import public_api_problems


def test_public_api_is_complete_and_sorted() -> None:
    assert public_api_problems(durable_prefect) == []


PYDANTIC_AI_2_68_NAMES = [
    'DEFAULT_PYDANTIC_AI_CACHE_POLICY',
    'PrefectAgent',
    'PrefectDurability',
    'PrefectFunctionToolset',
    'PrefectMCPToolset',
    'PrefectModel',
    'PrefectOperationNamer',
    'TaskConfig',
]
"""`pydantic_ai.durable_exec.prefect.__all__` of PydanticAI 2.68, pinned here (tests/compat checks ours against the
installed one)."""


def test_every_name_2_68_code_imports_is_public() -> None:
    assert [name for name in PYDANTIC_AI_2_68_NAMES if name not in durable_prefect.__all__] == []
