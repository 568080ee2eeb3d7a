"""A model whose requests are durable units of the caller's own workflow code, without a `DurableAgent`.

PydanticAI 2.68 code builds `DBOSModel` and `PrefectModel` to give a plain `Agent`, run in the user's own workflow or
flow, durable model requests. The engines fill two hooks; the request, stream and cancel logic is here, once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Literal

from pydantic_ai import RunContext
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import (
    CompletedStreamedResponse,
    KnownModelName,
    Model,
    ModelRequestParameters,
    StreamedResponse,
)
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings

from ._errors import DurableUsageError
from ._units import (
    ModelCancelInputs,
    ModelRequestInputs,
    execute_model_cancel,
    model_response_in_unit,
    send_model_request,
)

__all__ = ['ModelOperation', 'UnitModel']

ModelOperation = Literal['request', 'request_stream', 'cancel_suspended_response']
"""Which call of the model a unit serves; 2.68 names its steps and tasks after it."""


class UnitModel(WrapperModel, ABC):
    """Sends each request, and each cancel of a background response, from a durable unit in workflow code.

    Elsewhere, and inside a unit, it calls the wrapped model directly.

    An engine fills `_unit_scope()` (the engine's context when the caller is workflow code where this model's calls
    must be units, else `None`) and `_run_model_unit()` (run one such call as a unit and return its JSON, or the
    journaled JSON on recovery). A streamed request's handler, from `get_event_stream_handler`, gets the live stream
    inside the unit; without one, the caller's stream replays the journaled response's parts.
    """

    keeps_unit_values: bool = False
    """Whether a request takes the response the model made in this process as it is, when the engine hands back the
    very text the unit returned (as `UnitRunner.keeps_unit_values`: DBOS)."""

    def __init__(
        self,
        model: Model | KnownModelName | str,
        *,
        get_event_stream_handler: Callable[[], EventStreamHandler[Any] | None] | None = None,
    ) -> None:
        """Wrap `model`; `get_event_stream_handler` is called in each streamed request's unit for its handler."""
        super().__init__(model)
        self._get_event_stream_handler = get_event_stream_handler or _no_handler

    @abstractmethod
    def _unit_scope(self) -> Any | None:
        """The engine's context if the caller is workflow code whose model calls must be units; else `None`."""

    @abstractmethod
    async def _run_model_unit(
        self,
        scope: Any,
        operation: ModelOperation,
        key_inputs: list[Any],
        execute: Callable[[], Coroutine[Any, Any, str]],
    ) -> str:
        """Run `execute` as the unit of `operation`, whose inputs are `key_inputs`, in `scope` (`_unit_scope()`)."""

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        """Send the request from a unit in workflow code; elsewhere, directly."""
        scope = self._unit_scope()
        if scope is None:
            return await self.wrapped.request(messages, model_settings, model_request_parameters)
        inputs = ModelRequestInputs(messages, model_settings, model_request_parameters, None)

        key = [messages, model_settings, model_request_parameters]
        return await model_response_in_unit(
            lambda: send_model_request(self.wrapped, inputs, None),
            partial(self._run_model_unit, scope, 'request', key),
            keeps_values=self.keeps_unit_values,
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        """Stream from a unit in workflow code, where the handler gets the live events; elsewhere, directly."""
        scope = self._unit_scope()
        if scope is None:
            async with self.wrapped.request_stream(
                messages, model_settings, model_request_parameters, run_context
            ) as stream:
                yield stream
            return
        inputs = ModelRequestInputs(messages, model_settings, model_request_parameters, run_context)

        async def send() -> ModelResponse:
            handler = self._get_event_stream_handler()
            if handler is not None and run_context is None:
                raise DurableUsageError(
                    f'A {type(self).__name__} with an event stream handler streams only within an agent run, which '
                    'hands it the run context: use agent.run() or agent.iter(), not '
                    'pydantic_ai.direct.model_request_stream().'
                )
            return await send_model_request(self.wrapped, inputs, handler)

        key = [messages, model_settings, model_request_parameters]
        response = await model_response_in_unit(
            send, partial(self._run_model_unit, scope, 'request_stream', key), keeps_values=self.keeps_unit_values
        )
        # A handler saw the events inside the unit; without one, the caller's stream replays the response's parts.
        yield CompletedStreamedResponse(
            response,
            model_request_parameters=model_request_parameters,
            replay_events=self._get_event_stream_handler() is None,
        )

    async def cancel_suspended_response(self, response: ModelResponse) -> None:
        """Cancel a background response the run gave up on, from a unit in workflow code; elsewhere, directly."""
        scope = self._unit_scope()
        if scope is None:
            await self.wrapped.cancel_suspended_response(response)
            return

        async def execute() -> str:
            return await execute_model_cancel(self.wrapped, ModelCancelInputs(response))

        await self._run_model_unit(scope, 'cancel_suspended_response', [response], execute)


def _no_handler() -> EventStreamHandler[Any] | None:
    return None
