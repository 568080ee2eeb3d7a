"""`TemporalAgent`: the agent loop as deterministic workflow code, every model request and tool call an activity."""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, Literal

from durable_core import DurableNameError, DurableUsageError, NotInDurableUnitError, UnserializableError
from durable_core._agent import DurableAgent, ParallelExecutionMode, RunInputs
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
from pydantic import TypeAdapter, ValidationError
from pydantic_ai import ModelRetry, RunContext, UserError
from pydantic_ai.agent import AbstractAgent, AgentRun, AgentRunResult, EventStreamHandler, WrapperAgent
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models import Model, infer_model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import AbstractToolset, DynamicToolset, FunctionToolset
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

from . import _payloads as payloads
from ._config import (
    DEFAULT_ACTIVITY_CONFIG,
    ActivityConfig,
    ActivityConfigLike,
    ToolActivityConfig,
    as_activity_config,
    merge_configs,
)
from ._converter import RawJson
from ._toolsets import INSTRUCTIONS, LISTED_TOOLS, ActivityToolset, ListedTool

__all__ = ['TemporalAgent']

_ANY: TypeAdapter[Any] = TypeAdapter(Any)

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
            activity_config: The default config of every activity (a Temporal `ActivityConfig`, or a
                `StepPolicy`); by default one attempt may take 5 minutes and 10 attempts are made.
            model_activity_config: Overrides `activity_config` for model requests.
            toolset_activity_config: Overrides `activity_config` per toolset id.
            tool_activity_config: Overrides per toolset id and tool name; `False` runs that tool in the
                workflow itself, which is allowed for async tools that do no I/O.
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
        self._base_config = merge_configs(
            DEFAULT_ACTIVITY_CONFIG,
            as_activity_config(activity_config, where='activity_config') if activity_config is not None else None,
        )
        self._model_activity_config = merge_configs(
            self._base_config,
            as_activity_config(model_activity_config, where='model_activity_config')
            if model_activity_config is not None
            else None,
        )
        self._toolset_configs: dict[str, ActivityConfig] = {}
        for toolset_id, config in (toolset_activity_config or {}).items():
            self._check_toolset_id(toolset_id, 'toolset_activity_config')
            self._toolset_configs[toolset_id] = merge_configs(
                self._base_config, as_activity_config(config, where=f'toolset_activity_config[{toolset_id!r}]')
            )
        self._tool_configs: dict[tuple[str, str], ActivityConfig | None] = {}
        for toolset_id, by_tool in (tool_activity_config or {}).items():
            self._check_toolset_id(toolset_id, 'tool_activity_config')
            for tool_name, config in by_tool.items():
                self._tool_configs[(toolset_id, tool_name)] = self._check_tool_config(toolset_id, tool_name, config)
        self._ctx_codec = payloads.RunContextCodec(TypeAdapter(wrapped.deps_type))
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

    def _check_tool_config(self, toolset_id: str, tool_name: str, config: ToolActivityConfig) -> ActivityConfig | None:
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
        return merge_configs(
            self._toolset_configs.get(toolset_id, self._base_config), as_activity_config(config, where=where)
        )

    def _model_config(self) -> Any:
        return self._model_activity_config

    def _tool_config(self, toolset_id: str, tool_name: str) -> Any | None:
        if (toolset_id, tool_name) in self._tool_configs:
            return self._tool_configs[(toolset_id, tool_name)]
        return self._toolset_configs.get(toolset_id, self._base_config)

    def _mcp_config(self, toolset_id: str) -> Any:
        return self._toolset_configs.get(toolset_id, self._base_config)

    def _event_config(self) -> Any:
        return self._base_config

    # ---- in the workflow -------------------------------------------------------------------------

    def in_durable_context(self) -> bool:
        """Whether this is workflow code (activities and client code are not)."""
        return workflow.in_workflow()

    def _durable_run_id(self) -> str:
        return str(workflow.uuid4())

    async def run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run one unit as an activity; `execute` (the in-process body) is not used: the worker runs it."""
        payload = self._encode_unit(call)
        summary = call.inputs.tool_name if isinstance(call.inputs, ToolCallInputs) else None
        return await _execute(str(call.unit), payload, call.config or self._base_config, summary=summary)

    def _encode_unit(self, call: UnitCall) -> str:
        inputs = call.inputs
        data: dict[str, Any]
        if isinstance(inputs, ModelRequestInputs):
            params = inputs.model_request_parameters
            if params.allow_image_output:
                raise UnserializableError(
                    'Image output is not supported by TemporalAgent: the image would ride in the activity result, '
                    "which Temporal caps at 2 MB. Remove BinaryImage from the agent's output_type, or generate the "
                    'image in a tool that stores it and returns a URL.'
                )
            data = {'messages': payloads.encode_messages(inputs.messages), 'params': payloads.encode_params(params)}
            if inputs.model_settings:
                data['settings'] = payloads.encode_settings(inputs.model_settings)
            key = _RUN_MODEL_KEY.get()
            if key is not None:
                data['model'] = key
            if self._event_stream_handler is not None and inputs.run_context is not None:
                data['ctx'] = self._ctx_codec.encode(inputs.run_context)
        elif isinstance(inputs, ToolCallInputs):
            per_tool = call.unit.kind == 'tool_call'
            data = {'args': _ANY.dump_python(inputs.tool_args, mode='json')}
            if not per_tool:
                data['tool'] = inputs.tool_name
            data['ctx'] = self._encode_ctx(inputs.run_context, skip=frozenset({'tool_name'}))
        elif isinstance(inputs, EventInputs):
            data = {'event': payloads.encode_event(inputs.event), 'ctx': self._encode_ctx(inputs.run_context)}
        else:
            raise DurableUsageError(f'The unit {call.unit} was called without its inputs.')
        return payloads.encode(data)

    def _encode_ctx(self, ctx: RunContext[Any], *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        data = self._ctx_codec.encode(ctx, skip=skip)
        key = _RUN_MODEL_KEY.get()
        if key is not None:
            data['model'] = key
        return data

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
            payload = payloads.encode({'ctx': self._encode_ctx(ctx)})
            return await _execute(str(self.unit(kind, toolset_id)), payload, self._mcp_config(toolset_id))

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
            self._ctx_codec.encode_deps(deps)  # fail before the first activity, naming the type
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

    def run_sync(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Run synchronously outside a workflow; inside one, `await run()` instead."""
        if self.in_durable_context():
            raise NotInDurableUnitError(
                'run_sync() cannot be used inside a Temporal workflow: it would block the workflow. '
                'Use `await temporal_agent.run(...)` instead.'
            )
        return super().run_sync(*args, **kwargs)

    def run_stream(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Stream a run outside a workflow; inside one, use `event_stream_handler` and `run()` instead."""
        self._refuse_in_durable_context('run_stream')
        return super().run_stream(*args, **kwargs)

    def run_stream_events(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Stream a run's events outside a workflow; inside one, use `event_stream_handler` and `run()` instead."""
        self._refuse_in_durable_context('run_stream_events')
        return super().run_stream_events(*args, **kwargs)

    # ---- in the worker: the activities ------------------------------------------------------------

    @cached_property
    def temporal_activities(self) -> list[Callable[..., Any]]:
        """The activities a worker must register to run this agent; `PydanticAIPlugin` registers them."""
        return list(self.activities_by_name.values())

    @cached_property
    def activities_by_name(self) -> dict[str, Callable[..., Any]]:
        """The activities of this agent, by activity name (each name a durable-unit name)."""
        bodies: dict[str, Callable[[str], Coroutine[Any, Any, str]]] = {
            str(self.unit('model_request')): self._serve_model_request,
        }
        if self._event_stream_handler is not None:
            bodies[str(self.unit('event_handler'))] = self._serve_event
        for toolset_id, leaf in self._leaves.items():
            kind = self._describe_leaf(leaf).kind
            if kind == 'function' and isinstance(leaf, FunctionToolset):
                for tool_name in sorted(leaf.tools):
                    if self._tool_config(toolset_id, tool_name) is not None:
                        unit = self.unit('tool_call', toolset_id, tool_name)
                        bodies[str(unit)] = _bind_tool(self._serve_tool_call, toolset_id, tool_name)
            elif kind in _IO_KINDS:
                prefix = 'mcp' if kind == 'mcp' else 'toolset'
                for what in ('get_tools', 'get_instructions', 'call_tool'):
                    unit_kind: Any = f'{prefix}_{what}'
                    bodies[str(self.unit(unit_kind, toolset_id))] = _bind_toolset(self._serve_toolset, toolset_id, what)
            elif kind == 'other':
                bodies[str(self.unit('toolset_call_tool', toolset_id))] = _bind_toolset(
                    self._serve_toolset, toolset_id, 'call_tool'
                )
        return {name: _define_activity(name, body) for name, body in bodies.items()}

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

    def _decode_ctx(self, data: dict[str, Any], **overrides: Any) -> RunContext[Any]:
        return self._ctx_codec.decode(data, model=self._activity_model(data.get('model')), **overrides)

    async def _serve_model_request(self, payload: str) -> str:
        data = payloads.decode(payload)
        model = self._activity_model(data.get('model'))
        inputs = ModelRequestInputs(
            messages=payloads.decode_messages(data['messages']),
            model_settings=payloads.decode_settings(data['settings']) if 'settings' in data else None,
            model_request_parameters=payloads.decode_params(data['params']),
            run_context=self._decode_ctx(data['ctx']) if 'ctx' in data else None,
        )
        return await execute_model_request(model, inputs, self._event_stream_handler)

    async def _serve_event(self, payload: str) -> str:
        assert self._event_stream_handler is not None
        data = payloads.decode(payload)
        inputs = EventInputs(payloads.decode_event(data['event']), self._decode_ctx(data['ctx']))
        return await execute_event_delivery(self._event_stream_handler, inputs)

    async def _serve_tool_call(self, toolset_id: str, tool_name: str, payload: str) -> str:
        data = payloads.decode(payload)
        ctx = self._decode_ctx(data.get('ctx', {}), tool_name=tool_name)
        return await _call_leaf_tool(self._leaves[toolset_id], tool_name, data.get('args', {}), ctx)

    async def _serve_toolset(self, toolset_id: str, what: str, payload: str) -> str:
        data = payloads.decode(payload)
        tool_name = data.get('tool')
        ctx = self._decode_ctx(data.get('ctx', {}), **({'tool_name': tool_name} if tool_name else {}))
        leaf = self._leaves[toolset_id]
        toolset = await (await leaf.for_run(ctx)).for_run_step(ctx)
        async with toolset:
            if what == 'get_tools':
                tools = await toolset.get_tools(ctx)
                listed = [ListedTool(tool.tool_def, tool.max_retries) for tool in tools.values()]
                return LISTED_TOOLS.dump_json(listed).decode()
            if what == 'get_instructions':
                instructions = await toolset.get_instructions(ctx)
                if isinstance(instructions, Sequence) and not isinstance(instructions, str):
                    instructions = list(instructions)
                return INSTRUCTIONS.dump_json(instructions).decode()
            assert tool_name is not None
            return await _call_leaf_tool(toolset, tool_name, data.get('args', {}), ctx, entered=True)


class _WorkflowClock(AbstractCapability[Any]):
    """Measures a run's deadline (`timeout=`) on the workflow's replay-safe clock."""

    def get_run_clock(self) -> Callable[[], datetime] | None:
        return workflow.now


async def _execute(name: str, payload: str, config: ActivityConfig, *, summary: str | None = None) -> str:
    options: dict[str, Any] = dict(config)
    if summary is not None:
        options['summary'] = summary
    result: Any = await workflow.execute_activity(name, RawJson(payload), result_type=RawJson, **options)
    return str(result)


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


def _bind_tool(
    serve: Callable[[str, str, str], Coroutine[Any, Any, str]], toolset_id: str, tool_name: str
) -> Callable[[str], Coroutine[Any, Any, str]]:
    async def body(payload: str) -> str:
        return await serve(toolset_id, tool_name, payload)

    return body


def _bind_toolset(
    serve: Callable[[str, str, str], Coroutine[Any, Any, str]], toolset_id: str, what: str
) -> Callable[[str], Coroutine[Any, Any, str]]:
    async def body(payload: str) -> str:
        return await serve(toolset_id, what, payload)

    return body


def _define_activity(name: str, body: Callable[[str], Coroutine[Any, Any, str]]) -> Callable[..., Any]:
    async def run_activity(payload: RawJson) -> RawJson:
        try:
            return RawJson(await body(payload))
        except UserError as error:
            # Misuse fails the same way on every attempt: fail the activity at once, with the fix in the message.
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error

    run_activity.__name__ = run_activity.__qualname__ = name.replace('.', '__').replace('-', '_')
    return activity.defn(name=name)(run_activity)
