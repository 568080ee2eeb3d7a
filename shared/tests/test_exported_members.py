"""``__all__`` of ``durable_core`` and of the pytest plugin: sorted, unique, defined, naming every public name bound."""

from __future__ import annotations

import types

import durable_core
from durable_core.testing import public_api_problems


def test_public_api_is_complete_and_sorted() -> None:
    assert public_api_problems(durable_core) == []


def test_the_pytest_plugin_imports_without_any_engine_and_exports_its_fixtures() -> None:
    from durable_core.testing import pytest_plugin

    assert public_api_problems(pytest_plugin) == []
    assert {'dbos', 'prefect_server', 'temporal_client', 'time_skipping_env'} <= set(pytest_plugin.__all__)


def test_the_check_finds_unsorted_missing_and_undefined_names() -> None:
    fake = types.ModuleType('fake')
    fake.__all__ = ['b', 'a', 'ghost']  # type: ignore[attr-defined]
    fake.a = fake.b = fake.c = 1  # type: ignore[attr-defined]
    assert public_api_problems(fake) == [
        'sort __all__ (ruff check --select RUF022 --fix)',
        "in __all__ but not defined: ['ghost']",
        "missing from fake.__all__ (export them, or prefix them with _): ['c']",
    ]
