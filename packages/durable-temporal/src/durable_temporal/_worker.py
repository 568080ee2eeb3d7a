"""The worker side of a `TemporalAgent`: one activity per durable unit, and the bodies that serve them.

Workflow code (`_agent`) sends each unit's inputs as JSON arguments (`_activity_args`); an activity here decodes
them, rebuilds the run context with the run's model, runs the unit with durable-core's bodies and returns JSON.

Secret model settings (headers) that are the agent's or its model's own never cross: workflow code leaves them out
of the request's settings and of every run context, and the worker merges them back from the agent it registered,
as it rebuilds the model from the model key.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from functools import partial
from typing import Any

from durable_core import DurableUsageError, deserialize_run_context, is_retryable_error
from durable_core.engine import (
    DurableUnit,
    EventInputs,
    ModelCancelInputs,
    ModelRequestInputs,
    ToolsetLeaf,
    UnitId,
    execute_event_delivery,
    execute_model_cancel,
    execute_model_request,
    execute_tool_call,
    own_secret_settings,
    restore_secret_settings,
)
from pydantic_ai import RunContext
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.models import Model, infer_model
from temporalio import activity
from temporalio.exceptions import ApplicationError

from . import _activity_args as args_io
from ._converter import RawJson
from ._failures import PAYLOAD_LIMIT_BYTES, raise_as_user_error
from ._history import resolve_messages
from ._toolsets import ListedTool, encode_instructions, encode_listed_tools

__all__ = ['ActivityServer', 'model_source']

_Body = Callable[..., Coroutine[Any, Any, str]]
"""An activity's body: its arguments (JSON text) in, its result (JSON text) out."""


class ActivityServer:
    """Serves one agent's units in a worker: the activities `TemporalAgent.temporal_activities` lists."""

    def __init__(
        self,
        *,
        agent_name: str,
        default_model: Model | str | None,
        models: Mapping[str, Model],
        deps_type: type[Any],
        event_stream_handler: EventStreamHandler[Any] | None,
        toolset_leaf: Callable[[str], ToolsetLeaf],
        non_retryable_model_errors: tuple[type[BaseException], ...] = (),
        agent_model_settings: object = None,
    ) -> None:
        self._agent_name = agent_name
        self._agent_model_settings = agent_model_settings
        self._default_model = default_model
        self._models = models
        self._deps_type = deps_type
        self._event_stream_handler = event_stream_handler
        self._toolset_leaf = toolset_leaf
        self._non_retryable_model_errors = non_retryable_model_errors
        self._inferred_models: dict[str, Model] = {}

    def activities(self, units: list[DurableUnit]) -> dict[str, Callable[..., Any]]:
        """One activity per unit, by activity name (the unit's name)."""
        return {
            str(unit.unit): _define_activity(
                str(unit.unit),
                self._body(unit.unit),
                args_io.ARITY[unit.unit.kind],
                self._non_retryable_model_errors if unit.unit.kind == 'model_request' else (),
            )
            for unit in units
        }

    def _body(self, unit: UnitId) -> _Body:
        if unit.kind == 'model_request':
            return self._serve_model_request
        if unit.kind == 'model_cancel':
            return self._serve_model_cancel
        if unit.kind == 'event_handler':
            return self._serve_event
        assert unit.toolset is not None
        if unit.kind == 'tool_call':
            assert unit.tool is not None
            return partial(self._serve_tool_call, unit.toolset, unit.tool)
        what = unit.kind.split('_', 1)[1]  # `mcp_call_tool` -> `call_tool`
        return partial(self._serve_toolset, unit.toolset, what)

    def _model(self, key: str | None) -> Model:
        """The run's model in this worker: a registered one, or one inferred once from its string."""
        if key is not None and key in self._models:
            return self._models[key]
        cache_key = key if key is not None else '\x00default'
        model = self._inferred_models.get(cache_key)
        if model is None:
            source = key if key is not None else self._default_model
            if source is None:
                raise DurableUsageError(
                    f'The agent {self._agent_name!r} has no model: Agent(model=...) or TemporalAgent.run(model=...).'
                )
            model = self._inferred_models[cache_key] = infer_model(source)
        return model

    def _own_secret_settings(self, key: str | None) -> dict[str, Any]:
        """The secret settings workflow code left out of the inputs of a run whose model is named by `key`."""
        return own_secret_settings(model_source(self._models, self._default_model, key), self._agent_model_settings)

    def _run_context(self, data: str, model_key: str | None) -> RunContext[Any]:
        """The run context from its JSON, with the run's model and the secret settings left out of the JSON."""
        ctx = deserialize_run_context(data, deps_type=self._deps_type, model=self._model(model_key))
        if ctx.model_settings is not None:
            ctx.model_settings = restore_secret_settings(ctx.model_settings, self._own_secret_settings(model_key))
        return ctx

    def _ctx(self, activity_args: tuple[str, ...], index: int) -> RunContext[Any]:
        """The run context at `index` of the arguments, with the model named by the argument after it."""
        data = args_io.required(activity_args, index, 'run context')
        return self._run_context(data, args_io.decode_model_key(args_io.optional(activity_args, index + 1)))

    async def _serve_model_request(self, *activity_args: str) -> str:
        request = args_io.ModelRequestArgs.decode(activity_args)
        run_context = None if request.ctx is None else self._run_context(request.ctx, request.model_key)
        settings = restore_secret_settings(request.settings, self._own_secret_settings(request.model_key))
        messages = await resolve_messages(request.messages)
        inputs = ModelRequestInputs(messages, settings, request.parameters, run_context)
        response = await execute_model_request(self._model(request.model_key), inputs, self._event_stream_handler)
        return args_io.encode_model_result(response, inputs.offered_tools())

    async def _serve_model_cancel(self, *activity_args: str) -> str:
        response = args_io.decode_response(args_io.required(activity_args, 0, 'response'))
        model_key = args_io.decode_model_key(args_io.optional(activity_args, 1))
        return await execute_model_cancel(self._model(model_key), ModelCancelInputs(response))

    async def _serve_event(self, *activity_args: str) -> str:
        assert self._event_stream_handler is not None
        event = args_io.decode_event(args_io.required(activity_args, 0, 'event'))
        inputs = EventInputs(event, self._ctx(activity_args, 1))
        return await execute_event_delivery(self._event_stream_handler, inputs)

    async def _serve_tool_call(self, toolset_id: str, tool_name: str, *activity_args: str) -> str:
        tool_args = args_io.decode_tool_args(args_io.required(activity_args, 0, 'tool arguments'))
        ctx = self._ctx(activity_args, 1)
        toolset = self._toolset_leaf(toolset_id).toolset
        async with toolset:
            return await execute_tool_call(toolset, tool_name, tool_args, ctx)

    async def _serve_toolset(self, toolset_id: str, what: str, *activity_args: str) -> str:
        if what == 'call_tool':
            tool_name = args_io.decode_tool_name(args_io.required(activity_args, 0, 'tool name'))
            tool_args = args_io.decode_tool_args(args_io.required(activity_args, 1, 'tool arguments'))
            ctx = self._ctx(activity_args, 2)
        else:
            tool_name, tool_args, ctx = None, {}, self._ctx(activity_args, 0)
        leaf = self._toolset_leaf(toolset_id).toolset
        toolset = await (await leaf.for_run(ctx)).for_run_step(ctx)
        async with toolset:
            if what == 'get_tools':
                tools = await toolset.get_tools(ctx)
                return encode_listed_tools([ListedTool(tool.tool_def, tool.max_retries) for tool in tools.values()])
            if what == 'get_instructions':
                return encode_instructions(await toolset.get_instructions(ctx))
            assert tool_name is not None
            return await execute_tool_call(toolset, tool_name, tool_args, ctx)


def model_source(models: Mapping[str, Model], default_model: Model | str | None, key: str | None) -> Model | str | None:
    """What a run's model is built from: the model registered under `key`, the model string `key`, or the default."""
    if key is None:
        return default_model
    return models.get(key, key)


def _define_activity(
    name: str, body: _Body, arity: int, non_retryable: tuple[type[BaseException], ...] = ()
) -> Callable[..., Any]:
    async def run_activity(*activity_args: RawJson) -> RawJson:
        try:
            result = await body(*activity_args)
        except Exception as error:
            if is_retryable_error(error, non_retryable):
                raise
            if isinstance(error, DurableUsageError):
                raise_as_user_error(error)
            # Misuse and requests the provider rejected (a 4xx other than 408, 409, 425 and 429) fail the same way
            # on every attempt: fail the activity at once, under the error's type name, with its message.
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
        size = len(result.encode())
        if size > PAYLOAD_LIMIT_BYTES:
            # Temporal would refuse the result after the activity returns, and retry it: every attempt would make
            # the same request again and fail the same way.
            raise ApplicationError(
                f'The result of the activity {name!r} is {size:,} bytes of JSON, over the '
                f'{PAYLOAD_LIMIT_BYTES:,}-byte payload limit of a Temporal server, so it cannot be recorded. Make it '
                'smaller: limit the output '
                "(for example model_settings={'max_tokens': ...}), or have a tool store large data elsewhere and "
                'return a reference to it.',
                type='PayloadTooLargeError',
                non_retryable=True,
            )
        return RawJson(result)

    # Temporal decodes each argument by its parameter's type, and only when the counts match: declare them.
    parameters = [
        inspect.Parameter(f'arg{index + 1}', inspect.Parameter.POSITIONAL_ONLY, annotation=RawJson)
        for index in range(arity)
    ]
    run_activity.__signature__ = inspect.Signature(parameters, return_annotation=RawJson)  # pyright: ignore[reportFunctionMemberAccess]
    run_activity.__annotations__ = {**{p.name: RawJson for p in parameters}, 'return': RawJson}
    run_activity.__name__ = run_activity.__qualname__ = name.replace('.', '__').replace('-', '_')
    return activity.defn(name=name)(run_activity)
