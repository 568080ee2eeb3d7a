"""The shape of the misuse table that every engine driver reports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Case:
    name: str
    attempt: Callable[[], Awaitable[Any]]
    fix: str
    """Text the error must contain: the fix it names."""


async def run_cases(
    engine: str, cases: list[Case], journaled: Callable[[], Awaitable[int]] | None
) -> list[dict[str, Any]]:
    """Try each case; record the error, whether it names the fix, and what it journaled."""
    results: list[dict[str, Any]] = []
    for case in cases:
        before = await journaled() if journaled else 0
        error: BaseException | None = None
        try:
            await case.attempt()
        except Exception as raised:
            error = raised
        after = await journaled() if journaled else 0
        message = str(error) if error else ''
        results.append(
            {
                'engine': engine,
                'case': case.name,
                'error_type': type(error).__name__ if error else None,
                'message': message[:600],
                'names_fix': case.fix in message,
                'journaled': after - before,
            }
        )
    return results
