"""The replay-safe clock of a run in a Temporal workflow: its deadline and the timestamps of its requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import SYNTHESIZED_TOOL_RETURN_METADATA_KEY, ModelMessage, ModelRequest
from pydantic_ai.models import ModelRequestContext
from temporalio import workflow

__all__ = ['WorkflowClock']


class WorkflowClock(AbstractCapability[Any]):
    """The workflow's replay-safe clock in a run: its deadline (`timeout=`) and the timestamps of its requests.

    PydanticAI stamps the requests it builds with the system clock, which a replay reads again. This stamps the
    run's own requests with `workflow.now()` instead, through `RunContext.messages`, so the history the run
    returns is the same on every replay: before each model request the request being sent (also one a run
    without a prompt sends again from the history), and after each step every request carrying the run's
    `run_id`, which PydanticAI gives each request a run builds. Of these requests' parts, those the message
    history brought keep their timestamps, as do parts PydanticAI synthesized (they carry their response's
    time). The history's own requests keep theirs, even those PydanticAI rebuilt as new objects when it merged
    or cleaned the history. A model response keeps the timestamp its activity recorded.
    """

    def __init__(self) -> None:
        # Held by id, with the objects themselves kept alive so that an id is never reused by a new object.
        self._given_parts: dict[int, object] = {}
        self._stamped: dict[int, object] = {}

    async def for_run(self, ctx: RunContext[Any]) -> AbstractCapability[Any]:
        return WorkflowClock()

    def get_run_clock(self) -> Callable[[], datetime] | None:
        return workflow.now

    async def before_run(self, ctx: RunContext[Any]) -> None:
        for message in ctx.messages:  # the message history, before PydanticAI cleans it
            for part in message.parts:
                self._given_parts[id(part)] = part

    async def before_model_request(self, ctx: RunContext[Any], request_context: ModelRequestContext) -> Any:
        self._stamp(ctx, sending=ctx.messages[-1] if ctx.messages else None)
        return request_context

    async def after_node_run(self, ctx: RunContext[Any], *, node: Any, result: Any) -> Any:
        self._stamp(ctx, sending=None)
        return result

    def _stamp(self, ctx: RunContext[Any], *, sending: ModelMessage | None) -> None:
        now: datetime | None = None
        for message in ctx.messages:
            if not isinstance(message, ModelRequest) or id(message) in self._stamped:
                continue
            if message is not sending and (ctx.run_id is None or message.run_id != ctx.run_id):
                continue  # the history's
            now = now or workflow.now()
            self._stamped[id(message)] = message
            message.timestamp = now
            for part in message.parts:  # every request part type that has a timestamp
                if id(part) in self._given_parts or id(part) in self._stamped or _is_synthesized(part):
                    continue
                if isinstance(getattr(part, 'timestamp', None), datetime):
                    self._stamped[id(part)] = part
                    setattr(part, 'timestamp', now)  # noqa: B010


def _is_synthesized(part: object) -> bool:
    """Whether PydanticAI made `part` up to answer a dangling tool call (it carries its response's time)."""
    metadata = getattr(part, 'metadata', None)
    return isinstance(metadata, dict) and SYNTHESIZED_TOOL_RETURN_METADATA_KEY in metadata
