"""`TemporalAgent`: the agent loop as deterministic workflow code, every model request and tool call an activity."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from functools import cached_property, partial
from typing import Any, Generic, Literal

from durable_core import (
    DurableNameError,
    DurableUsageError,
    NotInDurableUnitError,
    UnserializableError,
    deserialize_run_context,
    encode,
    is_retryable_error,
)
from durable_core._agent import DurableAgent, ParallelExecutionMode, RunInputs, UnitConfigs
from durable_core._ids import UnitId, UnitKind
from durable_core._outcomes import capture_tool_call, replay_tool_call
from durable_core._units import (
    DurableToolset,
    EventInputs,
    ModelRequestInputs,
    ToolCallInputs,
    UnitCall,
    execute_event_delivery,
    execute_model_request,
)
from pydantic import ValidationError
from pydantic_ai import ModelRetry, RunContext
from pydantic_ai.agent import AbstractAgent, AgentRun, AgentRunResult, EventStreamHandler, WrapperAgent
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import SYNTHESIZED_TOOL_RETURN_METADATA_KEY, ModelMessage, ModelRequest
from pydantic_ai.models import Model, ModelRequestContext, infer_model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import AbstractToolset, DynamicToolset, FunctionToolset
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

from . import _activity_args as args_io
from ._config import (
    DEFAULT_ACTIVITY_CONFIG,
    ActivityConfigLike,
    LocalOptions,
    ResolvedConfig,
    ToolActivityConfig,
    resolve_config,
)
from ._converter import RawJson
from ._toolsets import ActivityToolset, ListedTool, encode_instructions, encode_listed_tools

__all__ = ['TemporalAgent']

_PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024
"""The largest activity result sent to the server: its default payload limit (`limit.blobSize.error`)."""

# The model key (registered key or model string) of the run in progress in this workflow task, if not the default.
_RUN_MODEL_KEY: ContextVar[str | None] = ContextVar('durable_temporal_run_model_key', default=None)

_IO_KINDS = ('mcp', 'dynamic')


class TemporalAgent(DurableAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """Wraps a PydanticAI agent so that, inside a Temporal workflow, all its I/O runs in activities.

    The agent loop runs as workflow code; each model request, each function-tool call, each MCP or
    dynamic-toolset call and each event delivered to the `event_stream_handler` is an activity, named
    after the agent (`geography.model_request`, `geography.tool_call.agent.get_weather`, ...). List the
    agent in a workflow's `__pydantic_ai_agents__` and attach `PydanticAIPlugin` to the client, and
    the worker registers the activities.

    Example:
        ```python
        agent = Agent(model, name='geography')
        temporal_agent = TemporalAgent(agent)

        @workflow.defn
        class GeographyWorkflow(PydanticAIWorkflow):
            __pydantic_ai_agents__ = [temporal_agent]

            @workflow.run
            async def run(self, prompt: str) -> str:
                return (await temporal_agent.run(prompt)).output
        ```

    Outside a workflow it behaves like the wrapped agent, and warns once that such runs are not durable.
    """

    engine_name = 'Temporal'
    wrapper_name = 'TemporalAgent'
    container_noun = 'workflow'
    tool_config_argument = 'tool_activity_config'

    def __init__(
        self,
        wrapped: AbstractAgent[AgentDepsT, OutputDataT],
        *,
        name: str | None = None,
        models: Mapping[str, Model | str] | None = None,
        event_stream_handler: EventStreamHandler[AgentDepsT] | None = None,
        activity_config: ActivityConfigLike | None = None,
        model_activity_config: ActivityConfigLike | None = None,
        toolset_activity_config: Mapping[str, ActivityConfigLike] | None = None,
        tool_activity_config: Mapping[str, Mapping[str, ToolActivityConfig]] | None = None,
        parallel_execution_mode: ParallelExecutionMode = 'parallel_ordered_events',
    ) -> None:
        """Wrap `wrapped`.

        Args:
            wrapped: The agent to make durable; it needs a `name`, or pass `name=`. Register its tools
                and toolsets before wrapping it.
            name: The name of the agent's activities, if not the agent's own.
            models: Models a workflow may select with `run(model='key')`, by key. Model strings such as
                `'openai:gpt-5'` need no registration.
            event_stream_handler: Receives the run's events: a model request's events live, inside its
                activity; other events each from an activity of their own, in order.
            activity_config: The default config of every activity (a Temporal `ActivityConfig`, a
                `StepPolicy`, or a `LocalActivity`); by default one attempt may take 5 minutes and 10 attempts
                are made.
            model_activity_config: Overrides `activity_config` for model requests.
            toolset_activity_config: Overrides `activity_config` per toolset id.
            tool_activity_config: Overrides per toolset id and tool name; `LocalActivity()` runs a short tool
                as a local activity; `False` runs it in the workflow itself, which is allowed for async tools
                that do no I/O.
            parallel_execution_mode: `'parallel_ordered_events'` runs a step's tool calls concurrently;
                `'sequential'` runs them one at a time.
        """
        super().__init__(
            wrapped,
            name=name,
            event_stream_handler=event_stream_handler,
            models=models,
            parallel_execution_mode=parallel_execution_mode,
        )
        self._leaves = self._collect_leaves(wrapped)
        self._base_config = resolve_config(DEFAULT_ACTIVITY_CONFIG, activity_config, where='activity_config')
        self._model_activity_config = resolve_config(
            self._base_config, model_activity_config, where='model_activity_config'
        )
        self._toolset_configs: dict[str, ResolvedConfig] = {}
        for toolset_id, config in (toolset_activity_config or {}).items():
            self._check_toolset_id(toolset_id, 'toolset_activity_config')
            self._toolset_configs[toolset_id] = resolve_config(
                self._base_config, config, where=f'toolset_activity_config[{toolset_id!r}]'
            )
        self._tool_configs: dict[tuple[str, str], ResolvedConfig | None] = {}
        for toolset_id, by_tool in (tool_activity_config or {}).items():
            self._check_toolset_id(toolset_id, 'tool_activity_config')
            for tool_name, config in by_tool.items():
                self._tool_configs[(toolset_id, tool_name)] = self._check_tool_config(toolset_id, tool_name, config)
        self.unit_configs = UnitConfigs(
            model=self._model_activity_config,
            tool=self._base_config,
            tool_by_toolset=self._toolset_configs,
            tool_by_toolset_and_name=self._tool_configs,
            mcp=self._base_config,
            toolset_by_id=self._toolset_configs,
            event=self._base_config,
        )
        self._activity_models: dict[str, Model] = {}
        self._warned_not_durable = False

    # ---- configuration -------------------------------------------------------------------------

    @staticmethod
    def _collect_leaves(wrapped: AbstractAgent[Any, Any]) -> dict[str, AbstractToolset[Any]]:
        leaves: dict[str, AbstractToolset[Any]] = {}

        def visit(leaf: AbstractToolset[Any]) -> None:
            leaves['agent' if leaf.id == '<agent>' else leaf.id or ''] = leaf

        for toolset in wrapped.toolsets:
            toolset.apply(visit)
        return leaves

    def _check_toolset_id(self, toolset_id: str, where: str) -> None:
        if toolset_id not in self._leaves:
            raise DurableNameError(
                f'{where} names the toolset id {toolset_id!r}, which the agent does not have; its toolset ids are '
                f"{sorted(self._leaves)} ('agent' is the agent's own tools)."
            )

    def _check_tool_config(self, toolset_id: str, tool_name: str, config: ToolActivityConfig) -> ResolvedConfig | None:
        leaf = self._leaves[toolset_id]
        where = f'tool_activity_config[{toolset_id!r}][{tool_name!r}]'
        if isinstance(leaf, FunctionToolset):
            tool = leaf.tools.get(tool_name)
            if tool is None:
                raise DurableNameError(
                    f'{where} names a tool the toolset does not have; its tools are {sorted(leaf.tools)}.'
                )
            if config is False and not tool.function_schema.is_async:
                raise DurableUsageError(
                    f'{where} is False, but the tool {tool_name!r} is a sync function: PydanticAI runs sync tools in '
                    'a thread, which a Temporal workflow cannot do. Make it `async def` (and free of I/O), or give '
                    'it an activity: remove it from tool_activity_config.'
                )
        elif config is False:
            raise DurableUsageError(
                f'{where} is False, but only function tools can run in the workflow: '
                f'{type(leaf).__name__} {toolset_id!r} does I/O.'
            )
        if config is False:
            return None
        return resolve_config(self._toolset_configs.get(toolset_id, self._base_config), config, where=where)

    # ---- in the workflow -------------------------------------------------------------------------

    def in_durable_context(self) -> bool:
        """Whether this is workflow code (activities and client code are not)."""
        return workflow.in_workflow()

    def _durable_run_id(self) -> str:
        return str(workflow.uuid4())

    async def run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run one unit as an activity; `execute` (the in-process body) is not used: the worker runs it."""
        activity_args = self._encode_unit(call)
        summary = call.inputs.tool_name if isinstance(call.inputs, ToolCallInputs) else None
        return await _execute(str(call.unit), activity_args, call.config or self._base_config, summary=summary)

    def _encode_unit(self, call: UnitCall) -> list[RawJson]:
        inputs = call.inputs
        key = _RUN_MODEL_KEY.get()
        if isinstance(inputs, ModelRequestInputs):
            params = inputs.model_request_parameters
            if params.allow_image_output:
                raise UnserializableError(
                    'Image output is not supported by TemporalAgent: the image would ride in the activity result, '
                    "which Temporal caps at 2 MB. Remove BinaryImage from the agent's output_type, or generate the "
                    'image in a tool that stores it and returns a URL.'
                )
            ctx = None
            if self._event_stream_handler is not None and inputs.run_context is not None:
                ctx = self._encode_ctx(inputs.run_context)
            return args_io.ModelRequestArgs.encode(inputs.messages, params, inputs.model_settings, key, ctx)
        if isinstance(inputs, ToolCallInputs):
            tool_args = args_io.encode_tool_args(inputs.tool_args)
            ctx = self._encode_ctx(inputs.run_context)
            if call.unit.kind == 'tool_call':  # the tool's name is in the activity's name
                return args_io.args_of(tool_args, ctx, args_io.encode_model_key(key))
            name = args_io.encode_tool_name(inputs.tool_name)
            return args_io.args_of(name, tool_args, ctx, args_io.encode_model_key(key))
        if isinstance(inputs, EventInputs):
            event = args_io.encode_event(inputs.event)
            return args_io.args_of(event, self._encode_ctx(inputs.run_context), args_io.encode_model_key(key))
        raise DurableUsageError(f'The unit {call.unit} was called without its inputs.')

    def _encode_ctx(self, ctx: RunContext[Any]) -> RawJson:
        return args_io.encode_ctx(ctx, self.wrapped.deps_type)

    def _wrap_leaf(self, leaf: AbstractToolset[Any]) -> AbstractToolset[Any]:
        if isinstance(leaf, DurableToolset | ActivityToolset):
            return leaf
        info = self._describe_leaf(leaf)
        if info.kind not in _IO_KINDS:
            return super()._wrap_leaf(leaf)
        toolset_id = info.toolset_id
        prefix = 'mcp' if info.kind == 'mcp' else 'toolset'

        async def request(what: Literal['get_tools', 'get_instructions'], ctx: RunContext[Any]) -> str:
            kind: Any = f'{prefix}_{what}'
            activity_args = args_io.args_of(self._encode_ctx(ctx), args_io.encode_model_key(_RUN_MODEL_KEY.get()))
            return await _execute(str(self.unit(kind, toolset_id)), activity_args, self._mcp_config(toolset_id))

        async def call(name: str, tool_args: dict[str, Any], ctx: RunContext[Any]) -> Any:
            unit = self.unit('mcp_call_tool' if info.kind == 'mcp' else 'toolset_call_tool', toolset_id)
            unit_call = UnitCall(
                unit,
                self._mcp_config(toolset_id),
                tool_call_id=ctx.tool_call_id,
                inputs=ToolCallInputs(toolset_id, name, tool_args, ctx),
            )
            return replay_tool_call(await self.run_unit(unit_call, _not_in_process))

        per_run_step = isinstance(leaf, DynamicToolset) and leaf.per_run_step
        return ActivityToolset(
            wrapped=leaf,
            toolset_id=toolset_id,
            per_run_step=per_run_step,
            request=request,
            call=call,
            has_instructions=info.kind == 'mcp' or isinstance(leaf, DynamicToolset),
        )

    # ---- runs ------------------------------------------------------------------------------------

    def _warn_not_durable(self) -> None:
        if not self._warned_not_durable:
            self._warned_not_durable = True
            warnings.warn(
                f'TemporalAgent {self.name!r} was run outside a Temporal workflow, so this run is not durable: it '
                'runs like the plain agent. Run it from a workflow to make it durable.',
                RuntimeWarning,
                stacklevel=4,
            )

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any]:
        raise NotInDurableUnitError(
            'A TemporalAgent cannot start a workflow by itself: call run() from a workflow that lists it in '
            '__pydantic_ai_agents__, and start that workflow with a Temporal client.'
        )

    async def run(self, *args: Any, **kwargs: Any) -> AgentRunResult[Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Run the agent: durably inside a workflow, like the plain agent (with a warning) outside one."""
        if not self.in_durable_context():
            self._warn_not_durable()
            plain_run: Any = WrapperAgent.run  # pyright: ignore[reportUnknownMemberType]
            return await plain_run(self, *args, **kwargs)
        deps = kwargs.get('deps')
        if deps is not None:
            self._check_deps(deps)
        return await super().run(*args, **kwargs)

    @asynccontextmanager
    async def iter(  # pyright: ignore[reportIncompatibleMethodOverride]
        self,
        user_prompt: Any = None,
        *,
        model: Model | str | None = None,
        capabilities: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[AgentRun[AgentDepsT, Any]]:
        """Iterate over the agent graph; inside a workflow each model request and tool call is an activity."""
        if not self.in_durable_context():
            async with super().iter(user_prompt, model=model, capabilities=capabilities, **kwargs) as run:
                yield run
            return
        if kwargs.get('event_stream_handler') is not None:
            self._check_run_arguments(kwargs['event_stream_handler'], None, {})
        token = _RUN_MODEL_KEY.set(self._model_key(model))
        try:
            async with super().iter(
                user_prompt, model=model, capabilities=[*(capabilities or []), _WorkflowClock()], **kwargs
            ) as run:
                yield run
        finally:
            _RUN_MODEL_KEY.reset(token)

    def _check_deps(self, deps: Any) -> None:
        """Fail before the first activity if the deps cannot travel to one, naming their type and the fix."""
        try:
            encode(deps, self.wrapped.deps_type)
        except UnserializableError as error:
            raise UnserializableError(
                f'The deps of type {type(deps).__qualname__} cannot be sent to a Temporal activity as JSON ({error}). '
                'Make deps a dataclass or Pydantic model of JSON-serializable fields and set '
                'Agent(..., deps_type=ThatType); create clients and connections in the tools instead.'
            ) from error

    def run_sync(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Run synchronously outside a workflow; inside one, `await run()` instead."""
        if self.in_durable_context():
            raise NotInDurableUnitError(
                'run_sync() cannot be used inside a Temporal workflow: it would block the workflow. '
                'Use `await temporal_agent.run(...)` instead.'
            )
        return super().run_sync(*args, **kwargs)

    # ---- in the worker: the activities ------------------------------------------------------------

    @cached_property
    def temporal_activities(self) -> list[Callable[..., Any]]:
        """The activities a worker must register to run this agent; `PydanticAIPlugin` registers them."""
        return list(self.activities_by_name.values())

    @cached_property
    def activities_by_name(self) -> dict[str, Callable[..., Any]]:
        """The activities of this agent, by activity name: one per unit of `durable_units()`."""
        activities: dict[str, Callable[..., Any]] = {}
        for durable_unit in self.durable_units():
            unit = durable_unit.unit
            name = str(unit)
            activities[name] = _define_activity(name, self._activity_body(unit), args_io.ARITY[unit.kind])
        return activities

    def _activity_body(self, unit: UnitId) -> _Body:
        if unit.kind == 'model_request':
            return self._serve_model_request
        if unit.kind == 'event_handler':
            return self._serve_event
        assert unit.toolset is not None
        if unit.kind == 'tool_call':
            assert unit.tool is not None
            return partial(self._serve_tool_call, unit.toolset, unit.tool)
        what = unit.kind.split('_', 1)[1]  # `mcp_call_tool` -> `call_tool`
        return partial(self._serve_toolset, unit.toolset, what)

    has_run_unit = False  # the workflow is yours, named by its class

    def _toolset_unit_kinds(self, kind: str) -> tuple[UnitKind, ...]:
        if kind == 'dynamic':  # its tools are listed in an activity too: the list depends on the run
            return ('toolset_get_tools', 'toolset_get_instructions', 'toolset_call_tool')
        return super()._toolset_unit_kinds(kind)

    def _activity_model(self, key: str | None) -> Model:
        if key is not None and key in self._models:
            return self._models[key]
        cache_key = key if key is not None else '\x00default'
        model = self._activity_models.get(cache_key)
        if model is None:
            source = key if key is not None else self.wrapped.model
            if source is None:
                raise DurableUsageError(
                    f'The agent {self.name!r} has no model: Agent(model=...) or TemporalAgent.run(model=...).'
                )
            model = infer_model(source)
            self._activity_models[cache_key] = model
        return model

    def _decode_ctx(self, data: str, model_key: str | None) -> RunContext[Any]:
        return deserialize_run_context(data, deps_type=self.wrapped.deps_type, model=self._activity_model(model_key))

    async def _serve_model_request(self, *activity_args: str) -> str:
        request = args_io.ModelRequestArgs.decode(activity_args)
        inputs = ModelRequestInputs(
            messages=request.messages,
            model_settings=request.settings,
            model_request_parameters=request.parameters,
            run_context=self._decode_ctx(request.ctx, request.model_key) if request.ctx is not None else None,
        )
        return await execute_model_request(self._activity_model(request.model_key), inputs, self._event_stream_handler)

    async def _serve_event(self, *activity_args: str) -> str:
        assert self._event_stream_handler is not None
        event = args_io.decode_event(args_io.required(activity_args, 0, 'event'))
        ctx = self._decode_ctx(args_io.required(activity_args, 1, 'run context'), _model_key_at(activity_args, 2))
        return await execute_event_delivery(self._event_stream_handler, EventInputs(event, ctx))

    async def _serve_tool_call(self, toolset_id: str, tool_name: str, *activity_args: str) -> str:
        tool_args = args_io.decode_tool_args(args_io.required(activity_args, 0, 'tool arguments'))
        ctx = self._decode_ctx(args_io.required(activity_args, 1, 'run context'), _model_key_at(activity_args, 2))
        return await _call_leaf_tool(self._leaves[toolset_id], tool_name, tool_args, ctx)

    async def _serve_toolset(self, toolset_id: str, what: str, *activity_args: str) -> str:
        leaf = self._leaves[toolset_id]
        if what == 'call_tool':
            tool_name = args_io.decode_tool_name(args_io.required(activity_args, 0, 'tool name'))
            tool_args = args_io.decode_tool_args(args_io.required(activity_args, 1, 'tool arguments'))
            ctx_at = 2
        else:
            tool_name, tool_args, ctx_at = None, {}, 0
        ctx = self._decode_ctx(
            args_io.required(activity_args, ctx_at, 'run context'), _model_key_at(activity_args, ctx_at + 1)
        )
        toolset = await (await leaf.for_run(ctx)).for_run_step(ctx)
        async with toolset:
            if what == 'get_tools':
                tools = await toolset.get_tools(ctx)
                return encode_listed_tools([ListedTool(tool.tool_def, tool.max_retries) for tool in tools.values()])
            if what == 'get_instructions':
                return encode_instructions(await toolset.get_instructions(ctx))
            assert tool_name is not None
            return await _call_leaf_tool(toolset, tool_name, tool_args, ctx, entered=True)


_Body = Callable[..., Coroutine[Any, Any, str]]
"""An activity's body: its arguments (JSON text) in, its result (JSON text) out."""


def _model_key_at(activity_args: tuple[str, ...], index: int) -> str | None:
    return args_io.decode_model_key(args_io.optional(activity_args, index))


class _WorkflowClock(AbstractCapability[Any]):
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
        return _WorkflowClock()

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


async def _execute(
    name: str, activity_args: list[RawJson], config: ResolvedConfig, *, summary: str | None = None
) -> str:
    if isinstance(config, LocalOptions):
        options: dict[str, Any] = dict(config.options)
        execute: Any = workflow.execute_local_activity
    else:
        options = dict(config)
        execute = workflow.execute_activity
    if summary is not None:
        options['summary'] = summary
    return str(await execute(name, args=activity_args, result_type=RawJson, **options))


async def _not_in_process() -> str:  # pragma: no cover - Temporal runs units in activities
    raise AssertionError('TemporalAgent runs every unit in an activity')


async def _call_leaf_tool(
    leaf: AbstractToolset[Any], tool_name: str, args: dict[str, Any], ctx: RunContext[Any], *, entered: bool = False
) -> str:
    async def call() -> Any:
        tools = await leaf.get_tools(ctx)
        tool = tools.get(tool_name)
        if tool is None:
            raise DurableUsageError(
                f'The toolset {leaf.label} has no tool {tool_name!r} in this worker: deploy the same tools on every '
                'worker of the task queue.'
            )
        try:
            validated = tool.args_validator.validate_python(args)
        except ValidationError as error:
            raise ModelRetry(f'Invalid arguments for {tool_name!r}: {error}') from error
        return await leaf.call_tool(tool_name, validated, replace(ctx, max_retries=tool.max_retries), tool)

    if entered:
        return await capture_tool_call(call())
    async with leaf:
        return await capture_tool_call(call())


def _define_activity(name: str, body: _Body, arity: int) -> Callable[..., Any]:
    async def run_activity(*activity_args: RawJson) -> RawJson:
        try:
            result = await body(*activity_args)
        except Exception as error:
            if is_retryable_error(error):
                raise
            # Misuse and requests the provider rejected (a 4xx other than 408, 409, 425 and 429) fail the same way
            # on every attempt: fail the activity at once, under the error's type name, with its message.
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
        size = len(result.encode())
        if size > _PAYLOAD_LIMIT_BYTES:
            # Temporal would refuse the result after the activity returns, and retry it: every attempt would make
            # the same request again and fail the same way.
            raise ApplicationError(
                f'The result of the activity {name!r} is {size:,} bytes of JSON, over the '
                f'{_PAYLOAD_LIMIT_BYTES:,}-byte payload limit of a Temporal server, so it cannot be recorded. Make it '
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
