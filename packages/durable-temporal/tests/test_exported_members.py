"""``durable_temporal.__all__``: sorted, unique, defined, and naming every public name its ``__init__`` binds."""

from __future__ import annotations

import durable_temporal
from durable_core.testing import public_api_problems


def test_public_api_is_complete_and_sorted() -> None:
    assert public_api_problems(durable_temporal) == []
