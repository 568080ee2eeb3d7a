"""`TemporalAgent`: the agent loop as deterministic workflow code, every model request and tool call an activity.

This module is the workflow side; the activities that serve the units in a worker are in `_worker`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine, Mapping, Sequence
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

from durable_core import DurableUsageError, UnserializableError
from durable_core.engine import (
    AGENT_TOOLSET_ID,
    DurableAgent,
    EventInputs,
    ModelCancelInputs,
    ModelRequestInputs,
    ParallelExecutionMode,
    RunInputs,
    ToolCallInputs,
    ToolsetKind,
    ToolsetLeaf,
    UnitCall,
    UnitConfigs,
    UnitKind,
    own_secret_settings,
    removed_tools_called,
    replay_tool_call,
    run_model_key,
    withhold_secret_settings,
)
from pydantic_ai import RunContext
from pydantic_ai.agent import AbstractAgent, EventStreamHandler
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import AbstractToolset, DynamicToolset, FunctionToolset
from temporalio import workflow

from . import _activity_args as args_io
from ._agent_run import AutoContinueAsNew, current_segment, start_agent_run
from ._clock import WorkflowClock
from ._config import (
    DEFAULT_ACTIVITY_CONFIG,
    TEMPORAL_METADATA_KEY,
    ActivityConfigLike,
    LocalOptions,
    ResolvedConfig,
    ToolActivityConfig,
    resolve_config,
)
from ._continue_as_new import ContinueAsNewCheck, ContinueAsNewHandler
from ._converter import RawJson
from ._dropin import TemporalRunContext, refuse_run_context_type, refuse_unsupported_arguments
from ._failures import PAYLOAD_LIMIT_BYTES, IncompatibleDeployError, PayloadTooLargeError
from ._history import forget_run, messages_argument
from ._model_strings import prepare_model_string
from ._sync_callbacks import refuse_sync_workflow_callbacks
from ._toolsets import ActivityToolset
from ._worker import ActivityServer, model_source

__all__ = ['TemporalAgent']

PAI_AGENT_TOOLSET_ID = '<agent>'
"""PydanticAI's id for an agent's own toolset; ours is `agent`, and configs keyed by either mean that toolset."""

_Config = TypeVar('_Config')


class TemporalAgent(DurableAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """Wraps a PydanticAI agent so that, inside a Temporal workflow, all its I/O runs in activities.

    The agent loop runs as workflow code; each model request, each function-tool call, each MCP or
    dynamic-toolset call and each event delivered to the `event_stream_handler` is an activity, named
    after the agent (`geography.model_request`, `geography.tool_call.agent.get_weather`, ...). List the
    agent in a workflow's `__pydantic_ai_agents__` and attach `PydanticAIPlugin` to the client, and
    the worker registers the activities.

    Example:
        ```python
        import asyncio
        import os
        import uuid

        from pydantic_ai import Agent
        from temporalio import workflow
        from temporalio.client import Client
        from temporalio.worker import Worker

        from durable_temporal import PydanticAIPlugin, PydanticAIWorkflow, TemporalAgent

        # OpenAI when OPENAI_API_KEY is set; otherwise PydanticAI's TestModel ('test') answers, offline.
        model = 'openai:gpt-6.1-sol' if os.environ.get('OPENAI_API_KEY') else 'test'
        agent = Agent(model, name='geography')  # the name is required: it names the activities


        @agent.tool_plain
        def get_weather(city: str) -> str:
            return f'24 degrees Celsius in {city}'


        temporal_agent = TemporalAgent(agent)  # after the tools are registered


        @workflow.defn
        class GeographyWorkflow(PydanticAIWorkflow):
            __pydantic_ai_agents__ = [temporal_agent]

            @workflow.run
            async def run(self, prompt: str) -> str:
                return (await temporal_agent.run(prompt)).output


        async def main() -> None:
            address = os.environ.get('TEMPORAL_ADDRESS', 'localhost:7233')  # `temporal server start-dev` listens there
            client = await Client.connect(address, plugins=[PydanticAIPlugin()])
            async with Worker(client, task_queue='geography', workflows=[GeographyWorkflow]):
                output = await client.execute_workflow(
                    GeographyWorkflow.run,
                    'How warm is it in Lisbon?',
                    id=f'geography-{uuid.uuid4()}',
                    task_queue='geography',
                )
            print(output)


        if __name__ == '__main__':  # the workflow sandbox imports this module again: guard the entry point
            asyncio.run(main())
        ```

    Outside a workflow it behaves like the wrapped agent, and warns once that such runs are not durable.
    """

    engine_name = 'Temporal'
    wrapper_name = 'TemporalAgent'
    container_noun = 'workflow'
    tool_config_argument = 'tool_activity_config'
    _run_is_unit = False  # the workflow is yours, named by its class
    _starts_durable_runs = False  # a client starts the workflow
    _units_run_in_process = False  # activities run on a worker: a handler passed to run() cannot reach them
    _refused_in_durable_code = frozenset({'run_stream', 'run_stream_events', 'run_sync'})
    _model_units_take_run_context = True  # its run id keys what earlier requests sent (`_history`)

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
        run_context_type: type[TemporalRunContext[Any]] = TemporalRunContext,
        provider_factory: Callable[..., Any] | None = None,
        temporalize_toolset_func: Callable[..., Any] | None = None,
        continue_as_new: ContinueAsNewHandler[AgentDepsT] | Literal['auto'] | None = None,
    ) -> None:
        """Wrap `wrapped`.

        Args:
            wrapped: The agent to make durable; it needs a `name`, or pass `name=`. Register its tools
                and toolsets before wrapping it. Its history processors and `instructions` functions run in
                the workflow: they must be `async def` (a sync one is refused).
            name: The name of the agent's activities, if not the agent's own.
            models: Models a workflow may select with `run(model='key')`, by key. Model strings such as
                `'openai:gpt-6.1-sol'` need no registration.
            event_stream_handler: Receives the run's events: a model request's events live, inside its
                activity; other events each from an activity of their own, in order.
            activity_config: The default config of every activity (a Temporal `ActivityConfig`, a
                `StepPolicy`, or a `LocalActivity`); by default one attempt may take 5 minutes and 10 attempts
                are made.
            model_activity_config: Overrides `activity_config` for model requests (and for the cancel of a
                background response a run gives up on, `<agent>.model_cancel`).
            toolset_activity_config: Overrides `activity_config` per toolset id (`'agent'` or PydanticAI's
                `'<agent>'` for the agent's own tools).
            tool_activity_config: Overrides per toolset id (as in `toolset_activity_config`) and tool name;
                `LocalActivity()` runs a short tool as a local activity; `False` runs it in the workflow itself,
                which is allowed for async tools that do no I/O.
            parallel_execution_mode: `'parallel_ordered_events'` runs a step's tool calls concurrently;
                `'sequential'` runs them one at a time.
            run_context_type: PydanticAI 2.68's argument, accepted only as `TemporalRunContext` (the default):
                activities get the fields of `durable_core.CARRIED_RUN_CONTEXT_FIELDS`, and a subclass is refused.
            provider_factory: PydanticAI 2.68's argument, accepted only as `None`: the worker builds each model from
                its registered instance or model string.
            temporalize_toolset_func: PydanticAI 2.68's argument, accepted only as `None`: every toolset of the
                agent gets its activities from `TemporalAgent` itself.
            continue_as_new: Called before a model request in a workflow when Temporal suggests continuing as new
                (`ContinueAsNewHandler`, as 2.68's `TemporalDurability(continue_as_new=...)`): it gets the run
                context and calls `workflow.continue_as_new(...)` with the messages and usage to go on with.
                `'auto'`: `run()` in a workflow runs the agent in a child workflow of its own
                (`durable_agents.AgentRun`), which continues as new by itself when Temporal suggests it; `run()`
                returns the whole run's result.
        """
        refuse_run_context_type(run_context_type)
        refuse_unsupported_arguments(
            provider_factory=provider_factory, temporalize_toolset_func=temporalize_toolset_func
        )
        super().__init__(
            wrapped,
            name=name,
            event_stream_handler=event_stream_handler,
            models=models,
            parallel_execution_mode=parallel_execution_mode,
        )
        refuse_sync_workflow_callbacks(wrapped, str(self.name))
        if isinstance(continue_as_new, str) and continue_as_new != 'auto':
            raise DurableUsageError(
                "continue_as_new must be 'auto', a function that gets the run context, or None; "
                f'got {continue_as_new!r}.'
            )
        self._continue_as_new = continue_as_new
        # 'auto': a run in workflow code is a child workflow of its own, which can continue as new.
        self._runs_in_durable_code_are_children = continue_as_new == 'auto'
        self._base_config = resolve_config(DEFAULT_ACTIVITY_CONFIG, activity_config, where='activity_config')
        toolset_activity_config = _agent_toolset_as_ours(toolset_activity_config, 'toolset_activity_config')
        tool_activity_config = _agent_toolset_as_ours(tool_activity_config, 'tool_activity_config')
        toolset_configs = {
            toolset_id: resolve_config(self._base_config, config, where=f'toolset_activity_config[{toolset_id!r}]')
            for toolset_id, config in (toolset_activity_config or {}).items()
        }
        tool_configs: dict[tuple[str, str], ToolActivityConfig] = {
            (toolset_id, tool_name): config
            for toolset_id, by_tool in (tool_activity_config or {}).items()
            for tool_name, config in by_tool.items()
        }
        configs = UnitConfigs(
            model=resolve_config(self._base_config, model_activity_config, where='model_activity_config'),
            tool=self._base_config,
            tool_by_toolset=toolset_configs,
            tool_by_toolset_and_name=tool_configs,
            mcp=self._base_config,
            toolset_by_id=toolset_configs,
            event=self._base_config,
        )
        self.unit_configs = configs  # checks the toolset ids and tool names first
        self.unit_configs = dataclasses.replace(
            configs,
            tool_by_toolset_and_name={
                key: self._resolve_tool_config(*key, config, toolset_configs.get(key[0], self._base_config))
                for key, config in tool_configs.items()
            },
        )

    def _resolve_tool_config(
        self, toolset_id: str, tool_name: str, config: ToolActivityConfig, toolset_config: ResolvedConfig
    ) -> ResolvedConfig | None:
        where = f'tool_activity_config[{toolset_id!r}][{tool_name!r}]'
        toolset = self.toolset_leaf(toolset_id).toolset
        if config is not False:
            return resolve_config(toolset_config, config, where=where)
        if not isinstance(toolset, FunctionToolset):
            raise DurableUsageError(
                f'{where} is False, but only function tools can run in the workflow: '
                f'{type(toolset).__name__} {toolset_id!r} does I/O.'
            )
        tool = toolset.tools.get(tool_name)
        if tool is not None and not tool.function_schema.is_async:
            raise DurableUsageError(
                f'{where} is False, but the tool {tool_name!r} is a sync function: PydanticAI runs sync tools in '
                'a thread, which a Temporal workflow cannot do. Make it `async def` (and free of I/O), or give '
                'it an activity: remove it from tool_activity_config.'
            )
        return None

    # ---- hooks of durable_core.engine ------------------------------------------------------------

    def _in_durable_context(self) -> bool:
        """Whether this is workflow code (activities and client code are not)."""
        return workflow.in_workflow()

    def _durable_run_id(self) -> str:
        return str(workflow.uuid4())

    def _prepare_model_string(self, model_id: str) -> None:
        prepare_model_string(model_id)  # its SDK imported outside the workflow's deadlock timer

    @property
    def continues_as_new_by_itself(self) -> bool:
        """Whether runs in a workflow are child workflows that continue as new by themselves (`'auto'`)."""
        return self._continue_as_new == 'auto'

    async def _start_durable_run(self, inputs: RunInputs) -> str:
        # Only with continue_as_new='auto', from workflow code: a client starts the workflows of other runs.
        return await start_agent_run(self, inputs)

    def _run_capabilities(self) -> Sequence[AbstractCapability[Any]]:
        # The clock first: a continue-as-new handler reads the request about to be sent with its workflow time.
        if self._continue_as_new is None:
            return (WorkflowClock(),)
        if isinstance(self._continue_as_new, str):  # 'auto'
            segment = current_segment(self)
            return (WorkflowClock(),) if segment is None else (WorkflowClock(), AutoContinueAsNew(segment))
        return (WorkflowClock(), ContinueAsNewCheck(self._continue_as_new))

    def _after_run(self, run_id: str) -> None:
        # A continue_as_new='auto' run's child workflow still needs them for a result too large to return whole.
        if current_segment(self) is None:
            forget_run(run_id)

    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run one unit as an activity; `execute` (the in-process body) is not used: the worker runs it."""
        summary = call.inputs.tool_name if isinstance(call.inputs, ToolCallInputs) else None
        result = await _execute(
            str(call.unit), self._encode_unit(call), call.config or self._base_config, summary=summary
        )
        if isinstance(call.inputs, ModelRequestInputs):
            return self._checked_response(result, call.inputs)
        return result

    def _checked_response(self, result: str, inputs: ModelRequestInputs) -> str:
        """The response of a model-request activity.

        Refused if it calls a tool its request offered and this version's does not: a deploy removed a tool the run
        called (`IncompatibleDeployError`).
        """
        response, offered_then = args_io.decode_model_result(result)
        if offered_then is not None:
            removed = removed_tools_called(response, offered_then, inputs.offered_tools())
            if removed:
                raise IncompatibleDeployError(self.name, workflow.info().workflow_id, removed)
        return response

    def _encode_unit(self, call: UnitCall) -> list[RawJson]:
        inputs, model_key = call.inputs, args_io.encode_model_key(call.model_key)
        if isinstance(inputs, ModelRequestInputs):
            params = inputs.model_request_parameters
            if params.allow_image_output:
                raise UnserializableError(
                    'Image output is not supported by TemporalAgent: the image would ride in the activity result, '
                    "which Temporal caps at 2 MB. Remove BinaryImage from the agent's output_type, or generate the "
                    'image in a tool that stores it and returns a URL.'
                )
            # The agent's own headers stay out of the history: the worker merges them back.
            settings = withhold_secret_settings(inputs.model_settings, self._own_secret_settings(call.model_key))
            ctx = None
            if self._event_stream_handler is not None and inputs.run_context is not None:
                ctx = self._encode_ctx(inputs.run_context, call.model_key)
            params = _without_activity_configs(params)
            run_id = inputs.run_context.run_id if inputs.run_context is not None else None
            messages = messages_argument(run_id, inputs.messages)
            return args_io.ModelRequestArgs.encode(messages, params, settings, call.model_key, ctx)
        if isinstance(inputs, ToolCallInputs):
            tool_args = args_io.encode_tool_args(inputs.tool_args)
            ctx = self._encode_ctx(inputs.run_context, call.model_key)
            if call.unit.kind == 'tool_call':  # the tool's name is in the activity's name
                return args_io.args_of(tool_args, ctx, model_key)
            return args_io.args_of(args_io.encode_tool_name(inputs.tool_name), tool_args, ctx, model_key)
        if isinstance(inputs, EventInputs):
            ctx = self._encode_ctx(inputs.run_context, call.model_key)
            return args_io.args_of(args_io.encode_event(inputs.event), ctx, model_key)
        if isinstance(inputs, ModelCancelInputs):
            return args_io.args_of(args_io.encode_response(inputs.response), model_key)
        raise DurableUsageError(f'The unit {call.unit} was called without its inputs.')

    def _encode_ctx(self, ctx: RunContext[Any], model_key: str | None) -> RawJson:
        """The run context argument of a unit whose run's model is named by `model_key` (the argument after it)."""
        if ctx.model_settings is not None:  # the settings of the last request: the agent's own headers stay out
            settings = withhold_secret_settings(ctx.model_settings, self._own_secret_settings(model_key))
            ctx = dataclasses.replace(ctx, model_settings=settings)
        return args_io.encode_ctx(ctx, self.wrapped.deps_type)

    def _own_secret_settings(self, model_key: str | None) -> dict[str, Any]:
        """The secret settings a worker merges back into a unit whose run's model is named by `model_key`."""
        model = model_source(self._models, self.wrapped.model, model_key)
        return own_secret_settings(model, getattr(self.wrapped, 'model_settings', None))

    def _non_retryable_model_errors(self) -> tuple[type[BaseException], ...]:
        """Errors, beyond the rejected requests the worker never retries, that fail a model request at once."""
        return ()

    def _toolset_unit_kinds(self, kind: ToolsetKind) -> tuple[UnitKind, ...]:
        if kind == 'dynamic':  # its tools are listed in an activity too: the list depends on the run
            return ('toolset_get_tools', 'toolset_get_instructions', 'toolset_call_tool')
        return super()._toolset_unit_kinds(kind)

    def _wrap_io_toolset(self, leaf: ToolsetLeaf) -> AbstractToolset[Any] | None:
        """An MCP or dynamic toolset's stand-in: its tools and instructions are listed by activities too."""
        mcp = leaf.kind == 'mcp'

        async def request(what: Literal['get_tools', 'get_instructions'], ctx: RunContext[Any]) -> str:
            if what == 'get_tools':
                call = self.unit_call('mcp_get_tools' if mcp else 'toolset_get_tools', leaf.toolset_id)
            else:
                call = self.unit_call('mcp_get_instructions' if mcp else 'toolset_get_instructions', leaf.toolset_id)
            key = run_model_key(ctx)
            activity_args = args_io.args_of(self._encode_ctx(ctx, key), args_io.encode_model_key(key))
            return await _execute(str(call.unit), activity_args, call.config)

        async def call_tool(name: str, tool_args: dict[str, Any], ctx: RunContext[Any]) -> Any:
            call = dataclasses.replace(
                self.unit_call('mcp_call_tool' if mcp else 'toolset_call_tool', leaf.toolset_id),
                tool_call_id=ctx.tool_call_id,
                inputs=ToolCallInputs(leaf.toolset_id, name, tool_args, ctx),
                model_key=run_model_key(ctx),
            )
            return replay_tool_call(await self._run_unit(call, _not_in_process))

        toolset = leaf.toolset
        return ActivityToolset(
            wrapped=toolset,
            toolset_id=leaf.toolset_id,
            per_run_step=isinstance(toolset, DynamicToolset) and toolset.per_run_step,
            request=request,
            call=call_tool,
            has_instructions=mcp or isinstance(toolset, DynamicToolset),
        )

    # ---- in the worker ---------------------------------------------------------------------------

    @cached_property
    def temporal_activities(self) -> list[Callable[..., Any]]:
        """The activities a worker must register to run this agent; `PydanticAIPlugin` registers them."""
        return list(self.activities_by_name.values())

    @cached_property
    def activities_by_name(self) -> dict[str, Callable[..., Any]]:
        """The activities of this agent, by activity name: one per unit of `durable_units()`."""
        server = ActivityServer(
            agent_name=self.name,
            default_model=self.wrapped.model,
            models=self._models,
            deps_type=self.wrapped.deps_type,
            event_stream_handler=self._event_stream_handler,
            toolset_leaf=self.toolset_leaf,
            non_retryable_model_errors=self._non_retryable_model_errors(),
            agent_model_settings=getattr(self.wrapped, 'model_settings', None),
        )
        return server.activities(self.durable_units())


def _agent_toolset_as_ours(configs: Mapping[str, _Config] | None, argument: str) -> dict[str, _Config]:
    """`configs` with PydanticAI's key for the agent's own toolset, `'<agent>'`, as ours, `'agent'`."""
    ours = dict(configs or {})
    if PAI_AGENT_TOOLSET_ID in ours:
        if AGENT_TOOLSET_ID in ours:
            raise DurableUsageError(
                f'{argument} has both {PAI_AGENT_TOOLSET_ID!r} and {AGENT_TOOLSET_ID!r}: two names of the '
                f"agent's own toolset. Keep one: merge the configs under {AGENT_TOOLSET_ID!r}."
            )
        ours[AGENT_TOOLSET_ID] = ours.pop(PAI_AGENT_TOOLSET_ID)
    return ours


async def _execute(
    name: str, activity_args: list[RawJson], config: ResolvedConfig, *, summary: str | None = None
) -> str:
    if isinstance(config, LocalOptions):  # its input stays in the worker: only its result is recorded
        options: dict[str, Any] = dict(config.options)
        execute: Any = workflow.execute_local_activity
    else:
        _refuse_oversize_input(name, activity_args)
        options = dict(config)
        execute = workflow.execute_activity
    if summary is not None:
        options['summary'] = summary
    return str(await execute(name, args=activity_args, result_type=RawJson, **options))


def _refuse_oversize_input(name: str, activity_args: list[RawJson]) -> None:
    """Fail the run at once on an input the server would refuse: it would fail the workflow task on every retry."""
    size = sum(len(argument.encode()) for argument in activity_args)
    if size > PAYLOAD_LIMIT_BYTES:
        raise PayloadTooLargeError(
            f'The input of the activity {name!r} is {size:,} bytes of JSON, over the {PAYLOAD_LIMIT_BYTES:,}-byte '
            'payload limit of a Temporal server, so it cannot be scheduled. A model request carries the messages '
            "its run's earlier requests did not send (the message history passed to the run, and each step's new "
            'messages): keep them smaller with a history processor, or have tools store large data elsewhere and '
            'return a reference to it.'
        )


async def _not_in_process() -> str:  # pragma: no cover - Temporal runs units in activities
    raise AssertionError('TemporalAgent runs every unit in an activity')


def _without_activity_configs(params: ModelRequestParameters) -> ModelRequestParameters:
    """The request's parameters without the tools' `metadata['temporal']`, which the model request never reads.

    Activity configs are for the workflow's scheduling, not the model, and need not be JSON (a `LocalActivity`).
    """
    if not any(TEMPORAL_METADATA_KEY in (tool.metadata or {}) for tool in params.function_tools):
        return params
    tools = [
        dataclasses.replace(
            tool, metadata={k: v for k, v in tool.metadata.items() if k != TEMPORAL_METADATA_KEY} or None
        )
        if tool.metadata and TEMPORAL_METADATA_KEY in tool.metadata
        else tool
        for tool in params.function_tools
    ]
    return dataclasses.replace(params, function_tools=tools)
