"""A tool call's outcome as journaled JSON: its return value, or the control-flow exception it raised.

`ModelRetry`, `ApprovalRequired` and `CallDeferred` are answers, not failures: a unit that let them
escape would be retried by the engine. They are captured as data inside the unit and raised again
in workflow code, where PydanticAI expects them.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

from pydantic import TypeAdapter
from pydantic_ai import ApprovalRequired, CallDeferred, ModelRetry
from pydantic_ai.messages import ToolReturn

__all__ = ['capture_tool_call', 'replay_tool_call']

_ANY: TypeAdapter[Any] = TypeAdapter(Any)
_TOOL_RETURN: TypeAdapter[ToolReturn[Any]] = TypeAdapter(ToolReturn[Any])


async def capture_tool_call(call: Awaitable[Any]) -> str:
    """Await a tool call and return its outcome as JSON text."""
    try:
        value = await call
    except ModelRetry as retry:
        outcome: dict[str, Any] = {'kind': 'retry', 'message': retry.message}
    except ApprovalRequired as approval:
        outcome = {'kind': 'approval_required', 'metadata': approval.metadata}
    except CallDeferred as deferred:
        outcome = {'kind': 'deferred', 'metadata': deferred.metadata, 'deferred_kind': deferred.kind}
    else:
        if isinstance(value, ToolReturn):
            tool_return = cast(ToolReturn[Any], value)
            outcome = {'kind': 'tool_return', 'value': _TOOL_RETURN.dump_python(tool_return, mode='json')}
        else:
            outcome = {'kind': 'return', 'value': value}
    return _ANY.dump_json(outcome).decode()


def replay_tool_call(data: str) -> Any:
    """The value a journaled outcome stands for, or its exception raised again."""
    outcome: dict[str, Any] = _ANY.validate_json(data)
    kind = outcome['kind']
    if kind == 'retry':
        raise ModelRetry(outcome['message'])
    if kind == 'approval_required':
        raise ApprovalRequired(outcome['metadata'])
    if kind == 'deferred':
        raise CallDeferred(outcome['metadata'], kind=outcome['deferred_kind'])
    if kind == 'tool_return':
        return _TOOL_RETURN.validate_python(outcome['value'])
    return outcome['value']
