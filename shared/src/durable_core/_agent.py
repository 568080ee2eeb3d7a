"""`DurableAgent`: the agent wrapper every engine package subclasses, filling in a few hooks.

The base owns what all engines share: name and toolset-id validation, the run inputs an engine
journals, model selection at run time, wrapping the model and toolsets in durable units, event
delivery, and the misuse checks. An engine package implements `UnitRunner` (how to run one unit)
and `_start_durable_run` (how to start a workflow or flow from outside one).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from abc import abstractmethod
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, cast

from pydantic import BaseModel, ConfigDict
from pydantic_ai import Agent, DeferredToolResults, RunContext, UsageLimits
from pydantic_ai.agent import AbstractAgent, AgentRun, AgentRunResult, EventStreamHandler, WrapperAgent
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import ModelMessage, UserContent
from pydantic_ai.models import Model, infer_model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import AbstractToolset, DynamicToolset, ExternalToolset, FunctionToolset
from pydantic_ai.usage import RunUsage

from ._codec import decode, decode_model_settings, encode, encode_model_settings
from ._errors import DurableNameError, DurableUsageError, NotInDurableUnitError, UnserializableError
from ._ids import UnitId, UnitKind, check_unique, replay_stable_uuid, validate_name
from ._output_types import OutputTypes
from ._units import (
    CURRENT_RUN_CONTEXT,
    DurableModel,
    DurableToolset,
    EventRelay,
    UnitCall,
    UnitRunner,
)

if TYPE_CHECKING:
    from pydantic_ai.mcp import MCPToolset

__all__ = [
    'AGENT_TOOLSET_ID',
    'DEFAULT_MODEL_KEY',
    'DurableAgent',
    'DurableUnit',
    'ParallelExecutionMode',
    'RunInputs',
    'UnitConfigs',
]

AGENT_TOOLSET_ID = 'agent'
"""The toolset id in unit names of the tools registered on the agent itself (`@agent.tool`)."""

DEFAULT_MODEL_KEY = 'default'
"""The reserved key of the agent's own model in `models=`."""

ParallelExecutionMode = Literal['parallel_ordered_events', 'sequential']


class RunInputs(BaseModel):
    """What a durable run is started with, as the engine journals it (JSON).

    `deps` and `model_settings` hold the JSON of their own codecs (the agent's `deps_type`, `ModelSettings`);
    `DurableAgent.encode_inputs` and `decode_inputs` write and read the whole through durable-core's codec.
    """

    model_config = ConfigDict(arbitrary_types_allowed=False, defer_build=True)

    user_prompt: str | list[UserContent] | None = None
    message_history: list[ModelMessage] | None = None
    deferred_tool_results: DeferredToolResults | None = None
    model: str | None = None
    deps: Any = None
    model_settings: dict[str, Any] | None = None
    usage_limits: UsageLimits | None = None
    usage: RunUsage | None = None
    metadata: dict[str, Any] | None = None
    instructions: str | None = None
    conversation_id: str | None = None
    run_id: str | None = None
    timeout: float | None = None
    retries: int | dict[str, int] | None = None


# Arguments of `run`/`iter` that cannot be journaled, with the fix to name in the error.
_UNJOURNALED_ARGUMENTS = {
    'output_type': 'set `output_type` on the `Agent` itself',
    'conversation': 'pass `message_history=` and `conversation_id=` instead',
    'cancellation_token': 'cancel the workflow through the engine instead',
    'capabilities': 'add capabilities to the `Agent` itself',
    'workspace': 'workspaces are not supported by durable agents yet',
    'spec': 'apply the spec to the `Agent` before wrapping it',
}


# Model settings that may carry credentials, refused in journaled run inputs.
_SECRET_SETTINGS = ('extra_headers',)


@dataclass
class _ToolsetInfo:
    toolset_id: str
    kind: Literal['function', 'mcp', 'dynamic', 'external', 'other']
    tool_names: tuple[str, ...]


@dataclass(frozen=True)
class DurableUnit:
    """One durable unit of an agent, as `DurableAgent.durable_units()` lists it."""

    unit: UnitId
    """Its identity; `str(unit)` is the name the engine persists."""
    config: Any
    """The engine-native config it runs with (`None` for the run itself)."""


@dataclass(frozen=True)
class UnitConfigs:
    """Which engine-native config each kind of unit runs with; the same shape on every engine.

    Engines fill it from their own arguments (`model_step_config=`, `tool_task_config_by_name=`, ...). A
    tool's config is looked up by (toolset id, tool name), then tool name, then toolset id, then the
    default; `None` there runs the tool in workflow code instead of a unit.
    """

    model: Any = None
    """Model-request units."""
    tool: Any = None
    """Function-tool units by default; `None` runs function tools in workflow code."""
    tool_by_name: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """Per tool name."""
    tool_by_toolset: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """Per toolset id, for its function tools."""
    tool_by_toolset_and_name: Mapping[tuple[str, str], Any] = field(default_factory=dict[tuple[str, str], Any])
    """Per (toolset id, tool name)."""
    mcp: Any = None
    """MCP and other I/O toolsets' units by default."""
    toolset_by_id: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """Per toolset id, for MCP and other I/O toolsets."""
    event: Any = None
    """Event-delivery units."""


class DurableAgent(WrapperAgent[AgentDepsT, OutputDataT], UnitRunner, Generic[AgentDepsT, OutputDataT]):
    """Base of `DBOSAgent`, `PrefectAgent` and `TemporalAgent`: a PydanticAI agent whose runs are durable."""

    engine_name: str = 'engine'
    """Name of the engine in messages, such as `DBOS`."""
    wrapper_name: str = 'DurableAgent'
    """Name of the wrapper class in messages, such as `DBOSAgent`."""
    container_noun: str = 'workflow'
    """What a durable run is called on this engine: `workflow` or `flow`."""
    tool_config_argument: str = 'the tool configs'
    """The engine's argument that configures tools by name, such as `tool_step_config_by_name`, for messages."""
    _unit_configs: UnitConfigs = UnitConfigs()

    def __init__(
        self,
        wrapped: AbstractAgent[AgentDepsT, OutputDataT],
        *,
        name: str | None = None,
        event_stream_handler: EventStreamHandler[AgentDepsT] | None = None,
        models: Mapping[str, Model | str] | None = None,
        parallel_execution_mode: ParallelExecutionMode = 'parallel_ordered_events',
    ) -> None:
        super().__init__(wrapped)
        self._name = validate_name(
            name or wrapped.name,
            what='agent name',
            fix=f"Agent(..., name='my_agent') or {self.wrapper_name}(agent, name=...)",
        )
        if parallel_execution_mode not in ('parallel_ordered_events', 'sequential'):
            raise DurableUsageError(
                "parallel_execution_mode must be 'parallel_ordered_events' or 'sequential', "
                f'got {parallel_execution_mode!r}'
            )
        self._parallel_execution_mode: ParallelExecutionMode = parallel_execution_mode
        self._event_stream_handler = event_stream_handler or wrapped.event_stream_handler
        self._models = self._check_models(models or {})
        self._toolsets = self._collect_toolsets(wrapped.toolsets)

    @property
    def unit_configs(self) -> UnitConfigs:
        """The configs of this agent's units; engines set it in their `__init__`, which checks every name in it."""
        return self._unit_configs

    @unit_configs.setter
    def unit_configs(self, configs: UnitConfigs) -> None:
        self._check_config_names(configs)
        self._unit_configs = configs

    def _check_config_names(self, configs: UnitConfigs) -> None:
        """Refuse a config for a tool or toolset the agent does not have: a typo would silently configure nothing."""
        toolset_ids = sorted(info.toolset_id for info in self._toolsets)
        for toolset_id in {*configs.tool_by_toolset, *configs.toolset_by_id}:
            if toolset_id not in toolset_ids:
                raise DurableNameError(
                    f'A toolset config names the toolset id {toolset_id!r}, which the agent does not have; its '
                    f"toolset ids are {toolset_ids} ({AGENT_TOOLSET_ID!r} is the agent's own tools)."
                )
        if any(info.kind in ('dynamic', 'other') for info in self._toolsets):
            return  # their tools are only known when a run asks for them
        tools = {(info.toolset_id, tool) for info in self._toolsets for tool in info.tool_names}
        tool_names = sorted({tool for _, tool in tools})
        function_toolsets = {info.toolset_id for info in self._toolsets if info.kind == 'function'}
        for toolset_id, tool in configs.tool_by_toolset_and_name:
            if toolset_id in function_toolsets and (toolset_id, tool) not in tools:
                raise DurableNameError(
                    f'{self.tool_config_argument} names the tool {tool!r} of the toolset {toolset_id!r}, which the '
                    f'agent does not have; its function tools are {tool_names}.'
                )
        for tool in configs.tool_by_name:
            if tool not in tool_names:
                raise DurableNameError(
                    f'{self.tool_config_argument} names the tool {tool!r}, which the agent does not have; its '
                    f'function tools are {tool_names}.'
                )

    # ---- hooks an engine fills in -------------------------------------------------------------

    def _model_config(self) -> Any:
        """The engine-native config of model-request units."""
        return self.unit_configs.model

    def _tool_config(self, toolset_id: str, tool_name: str) -> Any | None:
        """The config of one function tool's unit, or `None` to run the tool in workflow code."""
        configs = self.unit_configs
        if (toolset_id, tool_name) in configs.tool_by_toolset_and_name:
            return configs.tool_by_toolset_and_name[(toolset_id, tool_name)]
        if tool_name in configs.tool_by_name:
            return configs.tool_by_name[tool_name]
        return configs.tool_by_toolset.get(toolset_id, configs.tool)

    def _mcp_config(self, toolset_id: str) -> Any:
        """The config of an MCP or other I/O toolset's units."""
        return self.unit_configs.toolset_by_id.get(toolset_id, self.unit_configs.mcp)

    def _event_config(self) -> Any:
        """The config of event-delivery units."""
        return self.unit_configs.event

    @abstractmethod
    def _durable_run_id(self) -> str:
        """A run id that is the same when the engine re-executes the run (called in workflow code)."""

    @abstractmethod
    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any]:
        """Start a durable run from outside the engine's workflow or flow, and return its result."""

    def _before_tool_calls(self, ctx: RunContext[Any], tool_call_ids: Sequence[str]) -> None:
        """Called in workflow code before a step's tool calls start, in call order."""

    # ---- names ----------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The agent name that every durable unit name starts with."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        raise DurableUsageError(
            f'The name of a {self.wrapper_name} is fixed: it names persisted units. Create a new wrapper instead.'
        )

    def unit(self, kind: Any, toolset: str | None = None, tool: str | None = None) -> UnitId:
        """The `UnitId` of one of this agent's units."""
        return UnitId(self._name, kind, toolset, tool)

    has_run_unit: bool = True
    """Whether the engine journals a run as a unit of its own (`<agent>.run`); Temporal's is your workflow."""

    def _toolset_unit_kinds(self, kind: str) -> tuple[UnitKind, ...]:
        """The kinds of unit of an I/O toolset of `kind` (`mcp`, `dynamic`, `other`): an engine hook.

        By default an MCP toolset's listing, instructions and calls are units, and another toolset's calls; an engine
        that also journals a dynamic toolset's listing (Temporal) returns more.
        """
        if kind == 'mcp':
            return ('mcp_get_tools', 'mcp_get_instructions', 'mcp_call_tool')
        if kind in ('dynamic', 'other'):
            return ('toolset_call_tool',)
        return ()

    def durable_units(self) -> list[DurableUnit]:
        """Every durable unit of this agent with its config: the one list that names, registers and configures them.

        A function tool is a unit only when it has a config (see `UnitConfigs`); one that runs in workflow code is
        not journaled, so it is not listed.
        """
        units: list[DurableUnit] = []
        if self.has_run_unit:
            units.append(DurableUnit(self.unit('run'), None))
        units.append(DurableUnit(self.unit('model_request'), self._model_config()))
        if self._event_stream_handler is not None:
            units.append(DurableUnit(self.unit('event_handler'), self._event_config()))
        for info in self._toolsets:
            if info.kind == 'function':
                for tool in info.tool_names:
                    config = self._tool_config(info.toolset_id, tool)
                    if config is not None:
                        units.append(DurableUnit(self.unit('tool_call', info.toolset_id, tool), config))
            for kind in self._toolset_unit_kinds(info.kind):
                units.append(DurableUnit(self.unit(kind, info.toolset_id), self._mcp_config(info.toolset_id)))
        return units

    def durable_unit_names(self) -> list[str]:
        """Every durable-unit name of this agent, sorted: pin them in a test to notice a breaking rename."""
        return sorted(str(unit.unit) for unit in self.durable_units())

    @property
    def event_stream_handler(self) -> EventStreamHandler[AgentDepsT] | None:
        """Inside a durable run, the relay that delivers each event from a unit; outside, the user's handler."""
        if self._event_stream_handler is None or not self.in_durable_context():
            return self._event_stream_handler
        return EventRelay(
            runner=self,
            unit=self.unit('event_handler'),
            config=self._event_config(),
            handler=self._event_stream_handler,
        )

    # ---- validation at construction ----------------------------------------------------------

    def _check_models(self, models: Mapping[str, Model | str]) -> dict[str, Model]:
        checked: dict[str, Model] = {}
        for key, model in models.items():
            validate_name(key, what='model key', fix=f'{self.wrapper_name}(agent, models={{"fast": model}})')
            if key == DEFAULT_MODEL_KEY:
                raise DurableNameError(
                    f"The model key {DEFAULT_MODEL_KEY!r} is reserved for the agent's own model. "
                    f'Choose another key in {self.wrapper_name}(agent, models={{...}}).'
                )
            checked[key] = infer_model(model)
        return checked

    def _collect_toolsets(self, toolsets: Sequence[AbstractToolset[Any]]) -> list[_ToolsetInfo]:
        infos: list[_ToolsetInfo] = []

        def visit(leaf: AbstractToolset[Any]) -> None:
            infos.append(self._describe_leaf(leaf))

        for toolset in toolsets:
            toolset.apply(visit)
        check_unique(
            (info.toolset_id for info in infos),
            what='toolset id',
            fix=f'Give each toolset its own id, such as FunctionToolset(id=...); the id {AGENT_TOOLSET_ID!r} is '
            "reserved for the agent's own tools",
        )
        return infos

    def _describe_leaf(self, leaf: AbstractToolset[Any]) -> _ToolsetInfo:
        raw_id = leaf.id
        if raw_id == '<agent>':
            toolset_id = AGENT_TOOLSET_ID
        else:
            fix = _toolset_id_fix(leaf)
            toolset_id = validate_name(raw_id, what=f'id for the toolset {type(leaf).__name__}', fix=fix)
        if isinstance(leaf, FunctionToolset):
            return _ToolsetInfo(toolset_id, 'function', tuple(sorted(leaf.tools)))
        if is_mcp_toolset(leaf):
            return _ToolsetInfo(toolset_id, 'mcp', ())
        if isinstance(leaf, DynamicToolset):
            return _ToolsetInfo(toolset_id, 'dynamic', ())
        if isinstance(leaf, ExternalToolset):
            return _ToolsetInfo(toolset_id, 'external', ())
        return _ToolsetInfo(toolset_id, 'other', ())

    # ---- wrapping in durable units -------------------------------------------------------------

    def _durable_model(self, model: Model) -> DurableModel:
        return DurableModel(
            model,
            runner=self,
            unit=self.unit('model_request'),
            config=self._model_config(),
            event_stream_handler=self._event_stream_handler,
        )

    def _wrap_leaf(self, leaf: AbstractToolset[Any]) -> AbstractToolset[Any]:
        if isinstance(leaf, DurableToolset):
            return leaf
        info = self._describe_leaf(leaf)
        if info.kind == 'external':
            return leaf  # nothing runs: the calls end the run as deferred requests

        def unit_for(tool_name: str) -> UnitCall | None:
            if info.kind == 'function':
                config = self._tool_config(info.toolset_id, tool_name)
                if config is None:
                    return None
                return UnitCall(self.unit('tool_call', info.toolset_id, tool_name), config)
            kind = 'mcp_call_tool' if info.kind == 'mcp' else 'toolset_call_tool'
            return UnitCall(self.unit(kind, info.toolset_id), self._mcp_config(info.toolset_id))

        if info.kind == 'mcp':
            from ._mcp import DurableMCPToolset

            mcp_config = self._mcp_config(info.toolset_id)
            return DurableMCPToolset(
                cast('MCPToolset[Any]', leaf),
                runner=self,
                unit_for=unit_for,
                list_tools_call=UnitCall(self.unit('mcp_get_tools', info.toolset_id), mcp_config),
                instructions_call=UnitCall(self.unit('mcp_get_instructions', info.toolset_id), mcp_config),
            )
        return DurableToolset(leaf, runner=self, unit_for=unit_for)

    def _resolve_model(self, model: Model | str | None) -> Model | None:
        """Turn a run's `model=` into a model instance; instances must have been registered."""
        if model is None:
            return None
        if isinstance(model, str):
            if model in self._models:
                return self._models[model]
            if model == DEFAULT_MODEL_KEY:
                return None
            return infer_model(model)
        for registered in self._models.values():
            if registered is model:
                return model
        if model is self.wrapped.model:
            return None
        raise DurableUsageError(
            f'The model instance {model!r} was not registered with this {self.wrapper_name}, so a recovered '
            f'{self.container_noun} could not find it. Register it: '
            f'{self.wrapper_name}(agent, models={{"my_model": model}}) '
            "and run with model='my_model', or pass a model string such as 'openai:gpt-5'."
        )

    def _model_key(self, model: Model | str | None) -> str | None:
        """The journaled form of a run's `model=`: a registered key or a model string."""
        if model is None or isinstance(model, str):
            return model
        for key, registered in self._models.items():
            if registered is model:
                return key
        if model is self.wrapped.model:
            return None
        self._resolve_model(model)  # raises the error that names the fix
        return None

    # ---- runs ------------------------------------------------------------------------------------

    def _check_run_arguments(self, event_stream_handler: Any, toolsets: Any, extra: Mapping[str, Any]) -> None:
        if event_stream_handler is not None:
            raise DurableUsageError(
                f'An event_stream_handler passed to run() would not be durable. Pass it when wrapping instead: '
                f'{self.wrapper_name}(agent, event_stream_handler=handler).'
            )
        if toolsets:
            raise DurableUsageError(
                f'Toolsets passed at run time cannot be made durable: the {self.container_noun} must know every unit '
                f'before it runs. Register them on the agent: Agent(..., toolsets=[...]) before wrapping it in '
                f'{self.wrapper_name}.'
            )
        for argument, value in extra.items():
            if value is not None and argument in _UNJOURNALED_ARGUMENTS:
                raise DurableUsageError(
                    f'{argument}= cannot be journaled for a durable run: {_UNJOURNALED_ARGUMENTS[argument]}.'
                )

    def encode_deps(self, deps: Any) -> Any:
        """The deps as a JSON value, through the agent's `deps_type`; a clear error if they cannot be."""
        try:
            return json.loads(encode(deps, self.wrapped.deps_type))
        except Exception as error:
            raise UnserializableError(
                f'The deps of type {type(deps).__qualname__} cannot be serialized to JSON for a durable run ({error}). '
                'Make deps a dataclass or Pydantic model of JSON-serializable fields, and set '
                'Agent(..., deps_type=ThatType); keep clients and connections out of deps (create them in tools).'
            ) from error

    def decode_deps(self, value: Any) -> Any:
        """The deps rebuilt through the agent's `deps_type` (`None` when the run had none)."""
        if value is None:
            return None
        return cast(Any, decode(json.dumps(value), self.wrapped.deps_type))

    def _check_deps_round_trip(self, deps: Any) -> None:
        """Refuse deps that would come back from the journal as something else, such as a subclass's base."""
        if deps is None:
            return
        deps_type = self.wrapped.deps_type
        decoded = self.decode_deps(self.encode_deps(deps))
        if type(decoded) is not type(deps):
            raise DurableUsageError(
                f'The deps are a {type(deps).__qualname__}, but the agent declares '
                f'deps_type={_type_name(deps_type)}: they are journaled as that type, so a recovered run would get '
                f'a {type(decoded).__qualname__} and lose what the {type(deps).__qualname__} adds. Declare the type '
                f'you pass: Agent(..., deps_type={type(deps).__qualname__}), or pass a {_type_name(deps_type)}.'
            )
        if decoded != deps:
            fields = _differing_fields(deps, decoded)
            where = f' (fields {", ".join(fields)})' if fields else ''
            raise UnserializableError(
                f'The deps of type {type(deps).__qualname__} do not come back from JSON equal to what was passed'
                f'{where}, so a recovered run would see other deps. Give every field a declared JSON-friendly type '
                '(str, numbers, dates, lists, dicts with str keys, dataclasses or Pydantic models of them).'
            )

    @staticmethod
    def _refuse_secret_settings(model_settings: Any) -> None:
        """Run-time model settings are journaled (run inputs, or a unit's inputs): refuse the ones that hold secrets."""
        if model_settings and any(key in model_settings for key in _SECRET_SETTINGS):
            raise DurableUsageError(
                'model_settings passed to run() are journaled with the run, and headers often hold secrets. '
                'Set headers on the model or its provider (for example '
                'OpenAIProvider(openai_client=AsyncOpenAI(default_headers=...))) instead.'
            )

    def _build_inputs(self, user_prompt: Any, model: Any, deps: Any, **fields: Any) -> RunInputs:
        model_settings = fields.pop('model_settings', None)
        self._refuse_secret_settings(model_settings)
        try:
            values: dict[str, Any] = dict(
                user_prompt=user_prompt,
                model=self._model_key(model),
                deps=self.encode_deps(deps) if deps is not None else None,
                model_settings=json.loads(encode_model_settings(model_settings))
                if model_settings is not None
                else None,
                **fields,
            )
            RunInputs.model_validate(values)  # refuses a value of the wrong type now
            # ...but keeps the caller's objects: validating would rebuild some, such as a `BinaryContent` image as
            # a `BinaryImage`.
            return RunInputs.model_construct(**values)
        except DurableUsageError:
            raise
        except Exception as error:
            raise UnserializableError(f'The inputs of this run cannot be journaled as JSON: {error}') from error

    async def run(  # pyright: ignore[reportIncompatibleMethodOverride]
        self,
        user_prompt: str | Sequence[UserContent] | None = None,
        *,
        message_history: Sequence[ModelMessage] | None = None,
        deferred_tool_results: DeferredToolResults | None = None,
        model: Model | str | None = None,
        deps: AgentDepsT = None,
        model_settings: Any = None,
        usage_limits: UsageLimits | None = None,
        usage: RunUsage | None = None,
        metadata: dict[str, Any] | None = None,
        instructions: str | None = None,
        conversation_id: str | None = None,
        run_id: str | None = None,
        timeout: float | None = None,
        retries: Any = None,
        event_stream_handler: EventStreamHandler[AgentDepsT] | None = None,
        toolsets: Sequence[AbstractToolset[AgentDepsT]] | None = None,
        **kwargs: Any,
    ) -> AgentRunResult[Any]:
        """Run the agent durably: as a new workflow or flow, or as part of the one that calls it."""
        self._check_run_arguments(event_stream_handler, toolsets, kwargs)
        kwargs.pop('infer_name', None)  # the name is fixed at construction
        self._check_deps_round_trip(deps)
        if self.in_durable_context():
            self._resolve_model(model)
            return await super().run(
                user_prompt,
                message_history=message_history,
                deferred_tool_results=deferred_tool_results,
                model=model,
                deps=deps,
                model_settings=model_settings,
                usage_limits=usage_limits,
                usage=usage,
                metadata=metadata,
                instructions=instructions,
                conversation_id=conversation_id,
                run_id=run_id,
                timeout=timeout,
                retries=retries,
                **kwargs,
            )
        unexpected = sorted(name for name, value in kwargs.items() if value is not None)
        if unexpected:
            raise TypeError(f'{type(self).__name__}.run() got unexpected arguments: {unexpected}')
        inputs = self._build_inputs(
            list(user_prompt) if user_prompt is not None and not isinstance(user_prompt, str) else user_prompt,
            model,
            deps,
            message_history=list(message_history) if message_history is not None else None,
            deferred_tool_results=deferred_tool_results,
            model_settings=dict(model_settings) if model_settings is not None else None,
            usage_limits=usage_limits,
            usage=usage,
            metadata=metadata,
            instructions=instructions,
            conversation_id=conversation_id,
            run_id=run_id,
            timeout=timeout,
            retries=retries,
        )
        return await self._start_durable_run(inputs)

    async def run_inputs(self, inputs: RunInputs) -> AgentRunResult[Any]:
        """Run the agent from journaled inputs; engine packages call this in their workflow or flow."""
        return await self.run(
            inputs.user_prompt,
            message_history=inputs.message_history,
            deferred_tool_results=inputs.deferred_tool_results,
            model=inputs.model,
            deps=self.decode_deps(inputs.deps),
            model_settings=decode_model_settings(json.dumps(inputs.model_settings))
            if inputs.model_settings is not None
            else None,
            usage_limits=inputs.usage_limits,
            usage=inputs.usage,
            metadata=inputs.metadata,
            instructions=inputs.instructions,
            conversation_id=inputs.conversation_id,
            run_id=inputs.run_id,
            timeout=inputs.timeout,
            retries=inputs.retries,
        )

    def encode_inputs(self, inputs: RunInputs) -> str:
        """A run's inputs as journaled JSON: every field as the caller passed it, `None`s included."""
        return encode(inputs, RunInputs).decode()

    def decode_inputs(self, data: str | bytes) -> RunInputs:
        """Run inputs rebuilt from `encode_inputs`'s JSON."""
        return decode(data, RunInputs)

    @functools.cached_property
    def _output_types(self) -> OutputTypes:
        return OutputTypes(self.wrapped.output_type)

    def encode_result(self, result: AgentRunResult[Any]) -> str:
        """The run result as journaled JSON."""
        return self._output_types.encode_result(result)

    def decode_result(self, data: str | bytes) -> AgentRunResult[Any]:
        """A run result rebuilt from journaled JSON, its output validated as the agent's `output_type`."""
        return self._output_types.decode_result(data)

    @asynccontextmanager
    async def iter(  # pyright: ignore[reportIncompatibleMethodOverride]
        self,
        user_prompt: str | Sequence[UserContent] | None = None,
        *,
        model: Model | str | None = None,
        toolsets: Sequence[AbstractToolset[AgentDepsT]] | None = None,
        capabilities: Sequence[Any] | None = None,
        run_id: str | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[AgentRun[AgentDepsT, Any]]:
        """Iterate over the agent graph; inside a durable run every model request and tool call is a unit."""
        if not self.in_durable_context():
            self._warn_not_durable()
            async with super().iter(
                user_prompt, model=model, toolsets=toolsets, capabilities=capabilities, run_id=run_id, **kwargs
            ) as run:
                yield run
            return
        if toolsets:
            self._check_run_arguments(None, toolsets, {})
        self._refuse_secret_settings(kwargs.get('model_settings'))
        resolved = self._resolve_model(model)
        base_model = resolved or self.wrapped.model
        if base_model is None:
            raise DurableUsageError(f'The agent has no model: Agent(model=...) or {self.wrapper_name}.run(model=...).')
        durability = _DurabilityCapability(self)
        with Agent.parallel_tool_call_execution_mode(self._parallel_execution_mode):
            async with super().iter(
                user_prompt,
                model=self._durable_model(infer_model(base_model)),
                capabilities=[*(capabilities or []), durability],
                run_id=run_id or self._durable_run_id(),
                **kwargs,
            ) as run:
                yield run

    def _warn_not_durable(self) -> None:
        """Engines that cannot start a durable run from outside (Temporal) warn here."""

    # ---- entry points that are not durable -------------------------------------------------

    def _refuse_in_durable_context(self, entry_point: str) -> None:
        if self.in_durable_context():
            raise NotInDurableUnitError(
                f'{entry_point}() is not supported inside a {self.engine_name} {self.container_noun}: events would be '
                f'lost or repeated on recovery. Use run() with {self.wrapper_name}(agent, event_stream_handler=...) '
                'to see events as they happen.'
            )

    refused_in_durable_context: frozenset[str] = frozenset({'run_stream', 'run_stream_events'})
    """Streaming entry points that this engine refuses inside a durable run (a stream cannot be replayed)."""

    def run_stream(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Stream a run outside a durable run; inside one, use `event_stream_handler` instead."""
        if 'run_stream' in self.refused_in_durable_context:
            self._refuse_in_durable_context('run_stream')
        return super().run_stream(*args, **kwargs)

    def run_stream_events(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Stream a run's events outside a durable run; inside one, use `event_stream_handler` instead."""
        if 'run_stream_events' in self.refused_in_durable_context:
            self._refuse_in_durable_context('run_stream_events')
        return super().run_stream_events(*args, **kwargs)

    def override(self, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Override agent configuration (not inside a durable run: it would change persisted units)."""
        overrides_units = {'model', 'toolsets', 'tools'} & kwargs.keys()
        if overrides_units and self.in_durable_context():
            raise NotInDurableUnitError(
                'override(model=..., toolsets=...) is not supported inside a '
                f'{self.engine_name} {self.container_noun}: '
                f'register models with {self.wrapper_name}(agent, models={{...}}) '
                'and select them with run(model=...).'
            )
        return super().override(**kwargs)


class _DurabilityCapability(AbstractCapability[Any]):
    """Per-run hooks of a durable run: durable toolsets, replay-stable ids, the run context of model requests."""

    def __init__(self, agent: DurableAgent[Any, Any]) -> None:
        self._agent = agent

    def get_wrapper_toolset(self, toolset: AbstractToolset[Any]) -> AbstractToolset[Any] | None:
        return toolset.visit_and_replace(self._agent._wrap_leaf)  # pyright: ignore[reportPrivateUsage]

    def get_default_conversation_id(self, run_id: str) -> str | None:
        # Derived from the replay-stable run id, so a recovered run reports the same conversation.
        return replay_stable_uuid('conversation', run_id)

    async def wrap_model_request(self, ctx: RunContext[Any], *, request_context: Any, handler: Any) -> Any:
        token = CURRENT_RUN_CONTEXT.set(ctx)
        try:
            return await handler(request_context)
        finally:
            CURRENT_RUN_CONTEXT.reset(token)

    async def before_node_run(self, ctx: RunContext[Any], *, node: Any) -> Any:
        if Agent.is_call_tools_node(node):
            self._agent._before_tool_calls(ctx, [call.tool_call_id for call in node.model_response.tool_calls])  # pyright: ignore[reportPrivateUsage]
        return node


def is_mcp_toolset(toolset: AbstractToolset[Any]) -> bool:
    """Whether `toolset` is an `MCPToolset`, without importing the MCP client when nobody uses it."""
    module = sys.modules.get('pydantic_ai.mcp')
    return module is not None and isinstance(toolset, module.MCPToolset)


def _toolset_id_fix(leaf: AbstractToolset[Any]) -> str:
    if isinstance(leaf, DynamicToolset):
        return "give the toolset an id: @agent.toolset(id='my_toolset')"
    return f"give the toolset an id: {type(leaf).__name__}(..., id='my_toolset')"


def _type_name(type_: Any) -> str:
    return getattr(type_, '__qualname__', None) or repr(type_)


def _differing_fields(value: Any, decoded: Any) -> list[str]:
    """The names of a dataclass's or model's fields that differ between two instances."""
    if isinstance(value, BaseModel):
        names: list[str] = list(type(value).model_fields)
    elif dataclasses.is_dataclass(value):
        names = [f.name for f in dataclasses.fields(value)]
    else:
        return []
    return [name for name in names if getattr(value, name, None) != getattr(decoded, name, None)]


def stable_run_id(*parts: str) -> str:
    """A run id derived from the engine's durable identity of the run."""
    return replay_stable_uuid('run', *parts)
