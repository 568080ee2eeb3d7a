"""`continue_as_new=`: PydanticAI 2.68's hook for a workflow to continue as new when Temporal suggests it."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models import ModelRequestContext
from pydantic_ai.tools import AgentDepsT
from temporalio import workflow

__all__ = ['ContinueAsNewCheck', 'ContinueAsNewHandler']

ContinueAsNewHandler: TypeAlias = Callable[[RunContext[AgentDepsT]], Awaitable[None] | None]
"""PydanticAI 2.68's type of `continue_as_new=`: a sync or async function called before a model request in a
workflow when `workflow.info().is_continue_as_new_suggested()`.

It gets the run's `RunContext` (`messages`, with the request about to be sent last; `usage`; `usage_limits`) and calls
`workflow.continue_as_new(...)` with what the workflow's run method needs to go on: for example the messages as the
next run's `message_history` and the usage as its `usage`. Returning without calling it defers the continuation to
the next model request."""


class ContinueAsNewCheck(AbstractCapability[Any]):
    """Calls the handler before each model request in a workflow whose history Temporal suggests continuing."""

    def __init__(self, handler: ContinueAsNewHandler[Any]) -> None:
        self._handler = handler

    async def before_model_request(self, ctx: RunContext[Any], request_context: ModelRequestContext) -> Any:
        # `workflow.continue_as_new` raises `ContinueAsNewError` (a BaseException): it ends the run and the workflow.
        if workflow.in_workflow() and workflow.info().is_continue_as_new_suggested():
            outcome = self._handler(ctx)
            if inspect.isawaitable(outcome):
                await outcome
        return request_context
