"""Refuse an agent whose workflow-side callbacks are sync: PydanticAI would run them in a thread, and hang.

The agent loop runs as workflow code. PydanticAI runs a sync history processor or a sync `instructions` function in a
worker thread, which the workflow's event loop cannot wait for: the workflow task would never complete, and Temporal
would retry it forever. `TemporalAgent` refuses such an agent when it is built, naming the fix.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from durable_core import DurableUsageError
from durable_core.engine import agent_instruction_functions
from pydantic_ai.agent import AbstractAgent
from pydantic_ai.capabilities import AbstractCapability, CombinedCapability, ProcessHistory, WrapperCapability

__all__ = ['refuse_sync_workflow_callbacks']


def refuse_sync_workflow_callbacks(agent: AbstractAgent[Any, Any], agent_name: str) -> None:
    """Raise if a history processor or an `instructions` function of `agent` is a sync function.

    Args:
        agent: The wrapped agent.
        agent_name: The agent's name, for the message.

    Raises:
        DurableUsageError: Naming the function and the fix (`async def`).
    """
    for what, function in _workflow_callbacks(agent):
        if not _is_async(function):
            name = getattr(function, '__qualname__', None) or repr(function)
            raise DurableUsageError(
                f'The {what} {name!r} of the agent {agent_name!r} is a sync function: PydanticAI runs sync '
                'functions in a thread, which a Temporal workflow cannot wait for (the workflow would hang). Make it '
                '`async def` (and free of I/O).'
            )


def _workflow_callbacks(agent: AbstractAgent[Any, Any]) -> Iterator[tuple[str, Callable[..., Any]]]:
    """The history processors and `instructions` functions that PydanticAI calls in workflow code."""
    for capability in _capabilities(agent.root_capability):
        if isinstance(capability, ProcessHistory):
            yield 'history processor', capability.processor
    for instruction in agent_instruction_functions(agent):
        yield 'instructions function', instruction


def _capabilities(capability: AbstractCapability[Any]) -> Iterator[AbstractCapability[Any]]:
    yield capability
    if isinstance(capability, CombinedCapability):
        for child in capability.capabilities:
            yield from _capabilities(child)
    elif isinstance(capability, WrapperCapability):
        yield from _capabilities(capability.wrapped)


def _is_async(function: Callable[..., Any]) -> bool:
    while isinstance(function, functools.partial):
        function = function.func
    call = getattr(function, '__call__', None)  # noqa: B004 - an instance with an `async def __call__`
    return inspect.iscoroutinefunction(function) or (call is not None and inspect.iscoroutinefunction(call))
