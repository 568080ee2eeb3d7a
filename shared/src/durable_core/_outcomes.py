"""A tool call's outcome as the JSON text a unit journals: its return value, or the exception it raised.

`ModelRetry`, `ApprovalRequired`, `CallDeferred` and `ToolFailed` are answers, not failures: a unit
that let them escape would be retried by the engine. They are captured as data inside the unit (with
the codec's `ToolOutcome`) and raised again in workflow code, where PydanticAI expects them. Any
other exception propagates, so the engine's retry policy sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from ._codec import ToolOutcome, decode_tool_outcome, encode_tool_outcome

__all__ = ['capture_tool_call', 'replay_tool_call']


async def capture_tool_call(call: Awaitable[Any]) -> str:
    """Await a tool call inside a unit and return its outcome as JSON text."""
    return encode_tool_outcome(await ToolOutcome.capture(call, capture_failures=False)).decode()


def replay_tool_call(data: str) -> Any:
    """In workflow code, the value a journaled outcome stands for, or its exception raised again."""
    return decode_tool_outcome(data).unwrap()
