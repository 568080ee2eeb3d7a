"""The durable units every engine runs: a model request, a tool call, an MCP call, an event delivery, a model cancel.

The agent loop stays in workflow (or flow) code. Everything that does I/O goes through
`UnitRunner.run_unit`, which each engine package implements once: a DBOS step, a Prefect task, a
Temporal activity. A unit returns JSON text, so what the engine journals is our codec's output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Generic, TypeVar, cast

from pydantic import ValidationError
from pydantic_ai import AgentStreamEvent, ModelRetry, RunContext
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.messages import (
    FinalResultEvent,
    ModelMessage,
    ModelResponse,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
)
from pydantic_ai.models import CompletedStreamedResponse, Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings, merge_model_settings
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import AbstractToolset, ToolsetTool, WrapperToolset

from ._codec import decode_response, encode_response
from ._errors import DurableUsageError
from ._ids import UnitId
from ._tool_outcomes import ToolOutcome, capture_tool_call, decode_tool_outcome, encode_tool_outcome

__all__ = [
    'CURRENT_RUN_CONTEXT',
    'SECRET_MODEL_SETTINGS',
    'SECRET_SETTINGS_FIX',
    'DurableModel',
    'DurableToolset',
    'EventInputs',
    'EventRelay',
    'MadeHere',
    'ModelCancelInputs',
    'ModelRequestInputs',
    'ToolCallInputs',
    'UnitCall',
    'UnitInputs',
    'UnitRunner',
    'execute_event_delivery',
    'execute_model_cancel',
    'execute_model_request',
    'execute_tool_call',
    'is_model_stream_event',
    'made_in_unit',
    'model_response_in_unit',
    'own_secret_settings',
    'removed_tools_called',
    'restore_secret_settings',
    'run_model_key',
    'send_model_request',
    'withhold_secret_settings',
]

CURRENT_RUN_CONTEXT: ContextVar[RunContext[Any] | None] = ContextVar('durable_core_run_context', default=None)
"""The run context of the model request being sent; `Model.request` is not handed one."""

_MODEL_STREAM_EVENTS = (PartStartEvent, PartDeltaEvent, PartEndEvent, FinalResultEvent)


def is_model_stream_event(event: AgentStreamEvent) -> bool:
    """Whether an event comes from the model's response stream (delivered inside the model unit)."""
    return isinstance(event, _MODEL_STREAM_EVENTS)


SECRET_MODEL_SETTINGS: tuple[str, ...] = ('extra_headers',)
"""Model settings that may carry credentials (API keys, `Authorization` headers): never journaled."""

SECRET_SETTINGS_FIX = (
    'model_settings passed to run() are journaled with the run, and headers often hold secrets. '
    'Set headers on the model or its provider (for example '
    "OpenAIProvider(openai_client=AsyncOpenAI(default_headers=...))), or in the agent's own "
    'Agent(model_settings=...), instead.'
)
"""Why model settings with headers are refused where they would be journaled, and the fix."""


def own_secret_settings(model: Model | str | None, agent_model_settings: object) -> dict[str, Any]:
    """The secret settings of a request that a worker rebuilds from what it registered, as PydanticAI merges them.

    The model's own `settings`, overridden by the agent's own `model_settings` (a static dict: a callable's depend
    on the run). A model given as a string has no settings of its own.
    """
    model_settings = model.settings if isinstance(model, Model) else None
    agent_settings = None if callable(agent_model_settings) else cast(ModelSettings | None, agent_model_settings)
    merged: Mapping[str, Any] = merge_model_settings(model_settings, agent_settings) or {}
    return {key: merged[key] for key in SECRET_MODEL_SETTINGS if key in merged}


_SettingsT = TypeVar('_SettingsT', bound=Mapping[str, object])
"""Model settings: a request's (`ModelSettings`), or a run context's, which may be `RealtimeModelSettings`."""


def withhold_secret_settings(settings: _SettingsT | None, own: Mapping[str, Any]) -> _SettingsT | None:
    """`settings` as a unit's journaled input: without the secret settings that are the agent's own (`own`).

    A worker merges them back (`restore_secret_settings`). A secret setting of another value (from `run()`, a
    callable `model_settings`, a capability or `override()`) no worker could rebuild: it is refused.

    Raises:
        DurableUsageError: If `settings` holds a secret setting that is not the agent's own.
    """
    if not settings or not any(key in settings for key in SECRET_MODEL_SETTINGS):
        return settings
    kept = {key: value for key, value in settings.items() if key not in own or own[key] != value}
    if foreign := [key for key in SECRET_MODEL_SETTINGS if key in kept]:
        raise DurableUsageError(
            f"{SECRET_SETTINGS_FIX} (The request's {', '.join(foreign)} are not the agent's or its model's own, "
            'so a worker could not rebuild them: they come from run(model_settings=...), a callable model_settings, '
            'a capability or override(model_settings=...).)'
        )
    return cast(_SettingsT, kept)  # `{}` when only secrets were there: the worker still restores them


def restore_secret_settings(settings: _SettingsT | None, own: Mapping[str, Any]) -> _SettingsT | None:
    """Journaled `settings` with the agent's own secret settings (`own`) merged back, in the worker.

    What the journal holds wins: a unit journaled before secret settings were withheld holds them already.
    """
    if not own:
        return settings
    return cast(_SettingsT, {**own, **(settings or {})})


@dataclass(frozen=True)
class ModelRequestInputs:
    """What a model-request unit works on."""

    messages: list[ModelMessage]
    model_settings: ModelSettings | None
    model_request_parameters: ModelRequestParameters
    run_context: RunContext[Any] | None

    def offered_tools(self) -> list[str]:
        """The names of the tools the request offers the model (function and output tools), sorted.

        An engine journals them with the response, so that a version of the agent that reads the response back can
        tell a tool it no longer has from one the model made up (`removed_tools_called`).
        """
        parameters = self.model_request_parameters
        return sorted({tool.name for tool in [*parameters.function_tools, *parameters.output_tools]})


@dataclass(frozen=True)
class ToolCallInputs:
    """What a tool-call unit works on."""

    toolset_id: str
    tool_name: str
    tool_args: dict[str, Any]
    run_context: RunContext[Any]


@dataclass(frozen=True)
class EventInputs:
    """What an event-delivery unit works on."""

    event: AgentStreamEvent
    run_context: RunContext[Any]


@dataclass(frozen=True)
class ModelCancelInputs:
    """What a model-cancel unit works on: the suspended (background) response whose job the run gives up on."""

    response: ModelResponse


UnitInputs = ModelRequestInputs | ToolCallInputs | EventInputs | ModelCancelInputs


def removed_tools_called(response: str, offered_then: Iterable[str], offered_now: Iterable[str]) -> list[str]:
    """The tools a journaled response (its JSON) calls that its request offered and this version's does not, sorted.

    The response is decoded only when a tool offered then is gone. Only a response journaled by an earlier execution
    of the run can call one: a version of the agent without the tool resumes a run that called it, and running on
    would answer the call as an unknown tool. A tool the model made up (one its request did not offer) is not among
    them: PydanticAI answers it as unknown, on a rerun as before.
    """
    gone = set(offered_then) - set(offered_now)
    if not gone:
        return []
    return sorted({part.tool_name for part in decode_response(response).tool_calls if part.tool_name in gone})


async def execute_model_request(
    model: Model, inputs: ModelRequestInputs, event_stream_handler: EventStreamHandler[Any] | None
) -> str:
    """Send one model request and return the response as JSON; a handler gets the live stream.

    The body of every engine's model-request unit, in-process (DBOS, Prefect) or in an activity.
    """
    return encode_response(await send_model_request(model, inputs, event_stream_handler)).decode()


async def send_model_request(
    model: Model, inputs: ModelRequestInputs, event_stream_handler: EventStreamHandler[Any] | None
) -> ModelResponse:
    """Send one model request and return the response; a handler gets the live stream."""
    run_context = inputs.run_context
    if event_stream_handler is not None and run_context is not None:
        async with model.request_stream(
            inputs.messages, inputs.model_settings, inputs.model_request_parameters, run_context
        ) as stream:
            await event_stream_handler(run_context, stream)
            async for _ in stream:  # drain what the handler left, so `get()` is complete
                pass
            response = stream.get()
    else:
        response = await model.request(inputs.messages, inputs.model_settings, inputs.model_request_parameters)
    return response


async def execute_model_cancel(model: Model, inputs: ModelCancelInputs) -> str:
    """Cancel the job of a suspended response through the model: the body of every engine's model-cancel unit."""
    await model.cancel_suspended_response(inputs.response)
    return 'null'


async def execute_event_delivery(event_stream_handler: EventStreamHandler[Any], inputs: EventInputs) -> str:
    """Hand one event to the user's handler: the body of every engine's event unit."""

    async def one_event() -> AsyncIterator[AgentStreamEvent]:
        yield inputs.event

    await event_stream_handler(inputs.run_context, one_event())
    return 'null'


_MadeT = TypeVar('_MadeT')


class MadeHere(Generic[_MadeT]):
    """The value a unit made in this process, kept with the JSON text it journaled.

    When the engine hands back that very text (the unit ran in this call, in this process), the caller gets the
    value itself, as PydanticAI hands a plain run the model's response or the tool's return value; decoding it again
    would only cost time. Otherwise (a recovery, or a unit run elsewhere) the journal's text is decoded. Only for an
    engine whose runner `keeps_unit_values` (`enabled`); otherwise the text is always decoded.
    """

    __slots__ = ('_enabled', '_text', '_value')

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled
        self._text: str | None = None
        self._value: _MadeT | None = None

    def keep(self, value: _MadeT, text: str) -> str:
        """Keep `value` and return `text`, its JSON, for the unit to return."""
        if self._enabled:
            self._value = value
            self._text = text
        return text

    def read(self, journaled: str, decode: Callable[[str], _MadeT]) -> _MadeT:
        """The value for the text the engine returned: the kept value if it is the kept text itself, else decoded.

        The kept value is handed out once: an engine that runs the same code again with the same text (a retry in
        this process) gets a decoded copy, as a recovery does.
        """
        if journaled is self._text:
            self._text = None
            return cast(_MadeT, self._value)
        return decode(journaled)


async def made_in_unit(
    make: Callable[[], Awaitable[_MadeT]],
    encode: Callable[[_MadeT], bytes],
    decode: Callable[[str], _MadeT],
    run_unit: Callable[[Callable[[], Coroutine[Any, Any, str]]], Awaitable[str]],
    *,
    keeps_values: bool,
) -> _MadeT:
    """What `make` returns, made in a unit that journals its JSON (`encode`), as `run_unit` hands it back.

    The unit returns the JSON text; the caller gets the value as made when the engine `keeps_values` and hands back
    that very text (`MadeHere`), else the journal's text decoded.
    """
    made = MadeHere[_MadeT](keeps_values)

    async def execute() -> str:
        value = await make()
        return made.keep(value, encode(value).decode())

    return made.read(await run_unit(execute), decode)


def model_response_in_unit(
    send: Callable[[], Awaitable[ModelResponse]],
    run_unit: Callable[[Callable[[], Coroutine[Any, Any, str]]], Awaitable[str]],
    *,
    keeps_values: bool,
) -> Awaitable[ModelResponse]:
    """The response `send` gets, sent from a unit that journals it (`made_in_unit`)."""
    return made_in_unit(send, encode_response, decode_response, run_unit, keeps_values=keeps_values)


@dataclass(frozen=True)
class UnitCall:
    """One call of a durable unit, as handed to the engine."""

    unit: UnitId
    """Which unit; `str(unit)` is its persisted name."""
    config: Any
    """The engine-native config resolved for this unit, or `None` for the engine's default."""
    tool_call_id: str | None = None
    """The tool call a tool unit serves, so an engine can journal parallel calls in call order."""
    inputs: UnitInputs | None = None
    """The unit's inputs as data, for engines that run units in another process (Temporal)."""
    model_key: str | None = None
    """The run's model as `run(model=)` named it (a registered key or a model string; `None`: the agent's own), for
    engines that rebuild the run context in another process."""


class UnitRunner(ABC):
    """What an engine package implements: run one unit durably and return its journaled JSON."""

    keeps_unit_values: bool = False
    """Whether a run takes what a unit made in this process as it is (`MadeHere`) when `run_unit` hands back the very
    text the unit returned (DBOS). An engine whose reuse of results depends on decoded values leaves it `False`
    (Prefect: its cache keys hash the conversation, message objects included)."""

    @abstractmethod
    def in_durable_context(self) -> bool:
        """Whether the caller is workflow (or flow) code, where I/O must go through units."""

    @abstractmethod
    async def run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run `execute` as one durable unit, or return its journaled result on recovery."""


class DurableModel(WrapperModel):
    """Sends each model request from a durable unit and hands the journaled response to the agent loop.

    A suspended (background) response the run gives up on is cancelled from a unit of its own (`cancel_call`), so a
    recovered run does not cancel its job again.
    """

    def __init__(
        self,
        wrapped: Any,
        *,
        runner: UnitRunner,
        unit: UnitId,
        config: Any,
        cancel_call: UnitCall,
        event_stream_handler: EventStreamHandler[Any] | None,
        model_key: str | None = None,
        replay_events: bool | None = None,
    ) -> None:
        super().__init__(wrapped)
        self._runner = runner
        self._unit = unit
        self._config = config
        self._cancel_call = cancel_call
        self._event_stream_handler = event_stream_handler
        self.model_key = model_key
        """How the run named this model (`UnitCall.model_key`)."""
        self._replay_events = event_stream_handler is None if replay_events is None else replay_events

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        """Send the request from a unit; inside it, a configured handler gets the live stream."""
        if not self._runner.in_durable_context():
            return await self.wrapped.request(messages, model_settings, model_request_parameters)
        inputs = ModelRequestInputs(messages, model_settings, model_request_parameters, CURRENT_RUN_CONTEXT.get())

        call = UnitCall(self._unit, self._config, inputs=inputs, model_key=self.model_key)
        return await model_response_in_unit(
            lambda: send_model_request(self.wrapped, inputs, self._event_stream_handler),
            partial(self._runner.run_unit, call),
            keeps_values=self._runner.keeps_unit_values,
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[Any] | None = None,
    ) -> AsyncGenerator[StreamedResponse]:
        """In durable code, the unit's response as a completed stream.

        Its events were delivered live inside the unit to the run's handler, or are replayed from the response when
        the run has none.
        """
        if not self._runner.in_durable_context():
            async with self.wrapped.request_stream(
                messages, model_settings, model_request_parameters, run_context
            ) as stream:
                yield stream
            return
        token = CURRENT_RUN_CONTEXT.set(run_context) if run_context is not None else None
        try:
            response = await self.request(messages, model_settings, model_request_parameters)
        finally:
            if token is not None:
                CURRENT_RUN_CONTEXT.reset(token)
        # With a handler, the unit delivered the events live; without one (`iter()` and `node.stream()`), the stream
        # replays the response's parts as events, so its caller still sees them.
        yield CompletedStreamedResponse(
            response,
            model_request_parameters=model_request_parameters,
            replay_events=self._replay_events,
        )

    async def cancel_suspended_response(self, response: ModelResponse) -> None:
        """Cancel the job of a suspended response the run gives up on: in durable code, from a unit."""
        if not self._runner.in_durable_context():
            await self.wrapped.cancel_suspended_response(response)
            return
        inputs = ModelCancelInputs(response)

        async def execute() -> str:
            return await execute_model_cancel(self.wrapped, inputs)

        await self._runner.run_unit(replace(self._cancel_call, inputs=inputs, model_key=self.model_key), execute)


class DurableToolset(WrapperToolset[AgentDepsT], Generic[AgentDepsT]):
    """Runs the tool calls of one leaf toolset as durable units; the engine decides which calls.

    `unit_for(tool_name)` returns the `UnitCall` for a tool, or `None` to run that tool in
    workflow code (the DBOS convention for plain tools, or a tool configured with `None`).
    """

    def __init__(
        self,
        wrapped: AbstractToolset[AgentDepsT],
        *,
        runner: UnitRunner,
        unit_for: Callable[[str], UnitCall | None],
    ) -> None:
        super().__init__(wrapped)
        self._runner = runner
        self._unit_for = unit_for

    def visit_and_replace(
        self, visitor: Callable[[AbstractToolset[AgentDepsT]], AbstractToolset[AgentDepsT]]
    ) -> AbstractToolset[AgentDepsT]:
        """Already durable: a second wrapping would journal each call twice."""
        return self

    def rewrap(self, wrapped: AbstractToolset[AgentDepsT]) -> DurableToolset[AgentDepsT]:
        """The same durable wrapper around the toolset that `for_run` or `for_run_step` returned."""
        return DurableToolset(wrapped, runner=self._runner, unit_for=self._unit_for)

    async def for_run(self, ctx: RunContext[AgentDepsT]) -> AbstractToolset[AgentDepsT]:
        """Keep the durable wrapper around a per-run copy (dynamic and MCP toolsets make one)."""
        wrapped = await self.wrapped.for_run(ctx)
        return self if wrapped is self.wrapped else self.rewrap(wrapped)

    async def for_run_step(self, ctx: RunContext[AgentDepsT]) -> AbstractToolset[AgentDepsT]:
        """Keep the durable wrapper around a per-step copy (a dynamic toolset makes one)."""
        wrapped = await self.wrapped.for_run_step(ctx)
        return self if wrapped is self.wrapped else self.rewrap(wrapped)

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[AgentDepsT], tool: ToolsetTool[AgentDepsT]
    ) -> Any:
        """Call the tool from a unit, or inline when the engine says so."""
        call = self._unit_for(name) if self._runner.in_durable_context() else None
        if call is None:
            return await self.wrapped.call_tool(name, tool_args, ctx, tool)
        call = replace(
            call,
            tool_call_id=ctx.tool_call_id,
            inputs=ToolCallInputs(call.unit.toolset or '', name, tool_args, ctx),
            model_key=run_model_key(ctx),
        )

        outcome = await made_in_unit(
            lambda: ToolOutcome.capture(self.wrapped.call_tool(name, tool_args, ctx, tool), capture_failures=False),
            encode_tool_outcome,
            decode_tool_outcome,
            partial(self._runner.run_unit, call),
            keeps_values=self._runner.keeps_unit_values,
        )
        return outcome.unwrap()


class EventRelay:
    """The run-level event handler inside a durable run: one unit per event that did not come from the model.

    Model events reach the user's handler live inside the model unit; tool-call and tool-result
    events come here in the agent loop's deterministic order, and each is delivered in a unit, so
    recovery neither repeats nor skips a delivery.
    """

    def __init__(
        self,
        *,
        runner: UnitRunner,
        unit: UnitId,
        config: Any,
        handler: EventStreamHandler[Any],
    ) -> None:
        self._runner = runner
        self._call = UnitCall(unit, config)
        self._handler = handler

    async def __call__(self, ctx: RunContext[Any], events: AsyncIterator[AgentStreamEvent] | Any) -> None:
        """Deliver each non-model event to the user's handler from its own unit."""
        async for event in events:
            if is_model_stream_event(event):
                continue
            inputs = EventInputs(event, ctx)
            call = replace(self._call, inputs=inputs, model_key=run_model_key(ctx))
            await self._runner.run_unit(call, _deliver(self._handler, inputs))


class WorkflowSideEvents:
    """A run-time `event_stream_handler` when the wrapper has none: tool events reach it in durable code.

    Its model events reach it live inside the model unit, as with the wrapper's handler. The other events are not
    delivered from units, so that a run journals the same units whether or not its caller passed a handler (a
    recovery in another process has none); durable code that runs again on recovery delivers them again.
    """

    def __init__(self, handler: EventStreamHandler[Any]) -> None:
        self._handler = handler

    async def __call__(self, ctx: RunContext[Any], events: AsyncIterator[AgentStreamEvent] | Any) -> None:
        """Hand the non-model events to the handler, in the agent loop's order."""

        async def non_model_events() -> AsyncIterator[AgentStreamEvent]:
            async for event in events:
                if not is_model_stream_event(event):
                    yield event

        await self._handler(ctx, non_model_events())


def _deliver(handler: EventStreamHandler[Any], inputs: EventInputs) -> Callable[[], Coroutine[Any, Any, str]]:
    async def execute() -> str:
        return await execute_event_delivery(handler, inputs)

    return execute


def run_model_key(ctx: RunContext[Any]) -> str | None:
    """How the run of `ctx` named its model (`UnitCall.model_key`)."""
    model = ctx.model
    return model.model_key if isinstance(model, DurableModel) else None


async def execute_tool_call(
    toolset: AbstractToolset[Any], tool_name: str, tool_args: dict[str, Any], ctx: RunContext[Any]
) -> str:
    """Validate the arguments and call one tool of an entered toolset: the body of a tool unit in another process.

    Workflow code saw the tool's arguments unvalidated (an engine that lists tools in a unit cannot validate them
    there); invalid ones are answered with `ModelRetry`, as PydanticAI answers them.
    """

    async def call() -> Any:
        tool = (await toolset.get_tools(ctx)).get(tool_name)
        if tool is None:
            raise DurableUsageError(
                f'The toolset {toolset.label} has no tool {tool_name!r} in this worker: deploy the same tools on '
                'every worker.'
            )
        try:
            validated = tool.args_validator.validate_python(tool_args)
        except ValidationError as error:
            raise ModelRetry(f'Invalid arguments for {tool_name!r}: {error}') from error
        return await toolset.call_tool(tool_name, validated, replace(ctx, max_retries=tool.max_retries), tool)

    return await capture_tool_call(call())
