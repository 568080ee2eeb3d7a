"""Names of PydanticAI 2.68's `durable_exec.dbos` that 2.68 code imports, beyond `DBOSAgent` and `StepConfig`.

`DBOSModel` works as 2.68's does: a model whose requests are DBOS steps. `ChildWorkflowConfig` is 2.68's config
shape. `DBOSDurability` and `DBOSOperationNamer` belong to 2.68's capability form, which we do not have: building
one raises a `DurableUsageError` that names `DBOSAgent`, so 2.68 code fails where it starts, not in a run.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypedDict, cast

from dbos import DBOS, StepOptions
from durable_core import DurableUsageError, decode
from durable_core.engine import ModelCancelInputs, ModelRequestInputs, execute_model_cancel, execute_model_request
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

from ._config import StepConfigLike, step_options

__all__ = ['ChildWorkflowConfig', 'DBOSDurability', 'DBOSModel', 'DBOSOperationNamer']


def _in_workflow_code() -> bool:
    return DBOS.workflow_id is not None and DBOS.step_id is None


class DBOSModel(WrapperModel):
    """A model whose requests are DBOS steps in workflow code: PydanticAI 2.68's `DBOSModel`, journaled as JSON.

    `DBOSAgent` makes its model's requests steps itself (`<agent>.model_request`); this class is for 2.68 code that
    builds one, for instance to give a plain `Agent` run in your own `@DBOS.workflow` durable model requests. In
    workflow code, `request()` and `request_stream()` run as the step `<step_name_prefix>__model.request` (or
    `__model.request_stream`, whose handler from `get_event_stream_handler` gets the live stream inside the step),
    and `cancel_suspended_response()` (a background response a run gives up on) as
    `<step_name_prefix>__model.cancel_suspended_response`, so that a recovered workflow neither sends a request
    nor cancels a job twice. Outside workflow code, and inside a step, they call the wrapped model directly. The
    step names are 2.68's; the step results are durable-core's JSON of the response, where 2.68 pickles it.
    """

    def __init__(
        self,
        model: Model | KnownModelName | str,
        *,
        step_name_prefix: str,
        step_config: StepConfigLike | None = None,
        get_event_stream_handler: Callable[[], EventStreamHandler[Any] | None] | None = None,
    ) -> None:
        """Wrap `model`.

        Args:
            model: The model that sends the requests, or its name.
            step_name_prefix: The start of the step names, such as the agent's name.
            step_config: Retries and timeout of the steps (a `StepConfig`, or a durable-core `StepPolicy`).
            get_event_stream_handler: Called in each streamed request's step for the handler that receives the
                live stream (`None`: no handler).
        """
        super().__init__(model)
        self.step_config: StepConfigLike = step_config or {}
        self._step_name_prefix = step_name_prefix
        self._get_event_stream_handler = get_event_stream_handler or _no_handler
        step_options(f'{step_name_prefix}__model.request', self.step_config)  # refuses unknown keys now

    async def _step(self, suffix: str, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        options = step_options(f'{self._step_name_prefix}__model.{suffix}', self.step_config)
        return await DBOS.run_step_async(cast(StepOptions, options), execute)

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        """Send the request from a step in workflow code; elsewhere, directly."""
        if not _in_workflow_code():
            return await self.wrapped.request(messages, model_settings, model_request_parameters)
        inputs = ModelRequestInputs(messages, model_settings, model_request_parameters, None)

        async def execute() -> str:
            return await execute_model_request(self.wrapped, inputs, None)

        return decode(await self._step('request', execute), ModelResponse)

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        """Stream from a step in workflow code, where the handler gets the live events; elsewhere, directly."""
        if not _in_workflow_code():
            async with self.wrapped.request_stream(
                messages, model_settings, model_request_parameters, run_context
            ) as stream:
                yield stream
            return
        inputs = ModelRequestInputs(messages, model_settings, model_request_parameters, run_context)

        async def execute() -> str:
            handler = self._get_event_stream_handler()
            if handler is not None and run_context is None:
                raise DurableUsageError(
                    'A DBOSModel with an event stream handler streams only within an agent run, which hands it the '
                    'run context: use agent.run() or agent.iter(), not pydantic_ai.direct.model_request_stream().'
                )
            return await execute_model_request(self.wrapped, inputs, handler)

        response = decode(await self._step('request_stream', execute), ModelResponse)
        # A handler saw the events inside the step; without one, the caller's stream replays the response's parts.
        replay = self._get_event_stream_handler() is None
        yield CompletedStreamedResponse(
            response, model_request_parameters=model_request_parameters, replay_events=replay
        )

    async def cancel_suspended_response(self, response: ModelResponse) -> None:
        """Cancel a background response the run gave up on, from a step in workflow code; elsewhere, directly."""
        if not _in_workflow_code():
            await self.wrapped.cancel_suspended_response(response)
            return

        async def execute() -> str:
            return await execute_model_cancel(self.wrapped, ModelCancelInputs(response))

        await self._step('cancel_suspended_response', execute)


def _no_handler() -> EventStreamHandler[Any] | None:
    return None


class ChildWorkflowConfig(TypedDict, total=False):
    """PydanticAI 2.68's config of a tool call run as a DBOS child workflow, given in a tool's metadata.

    Only 2.68's `DBOSDurability` reads it; 2.68's `DBOSAgent` ignores it, and so does ours: every tool call of a
    `DBOSAgent` that is journaled is a step (`tool_step_config=`, `tool_step_config_by_name=`). For a tool that
    should run as a workflow of its own, have the tool run another `DBOSAgent`, whose `run()` from a step starts one.
    """

    workflow_timeout_sec: float
    """Seconds before DBOS cancels the child workflow (2.68: passed to DBOS's `SetWorkflowTimeout`)."""


class DBOSDurability:
    """PydanticAI 2.68's DBOS capability: not provided. Building one raises `DurableUsageError`, naming the fix.

    Ours wraps the agent instead: `DBOSAgent(agent, model_step_config=..., mcp_step_config=...,
    event_stream_handler=..., parallel_execution_mode=..., models=...)` takes the capability's arguments.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming `DBOSAgent`."""
        raise DurableUsageError(
            'durable_dbos has no DBOSDurability capability: wrap the agent instead, '
            '`DBOSAgent(Agent(...), model_step_config=..., event_stream_handler=...)`, without '
            '`capabilities=[DBOSDurability(...)]`; run it with `await dbos_agent.run(...)`.'
        )


class DBOSOperationNamer:
    """PydanticAI 2.68's namer of DBOS step names: not provided. Building one raises `DurableUsageError`.

    Our step and workflow names are fixed, derived from the agent's name and its toolset ids
    (`<agent>.model_request`, `<agent>.run`, ...), and listed by `DBOSAgent.durable_unit_names()`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming `durable_unit_names()`."""
        raise DurableUsageError(
            'durable_dbos has no DBOSOperationNamer: a DBOSAgent names its workflow and steps after the agent '
            '(`name=`) and its toolset ids; `dbos_agent.durable_unit_names()` lists them. Choose the names there.'
        )
