"""`DurableAgent`: the agent wrapper every engine package subclasses, filling in a few hooks.

The base owns every public entry point (`run`, `run_sync`, `iter`, `run_stream`, `run_stream_events`,
`override`) and every misuse guard: name and toolset-id validation, the run inputs an engine journals,
model selection at run time, wrapping the model and toolsets in durable units, event delivery. An engine
package fills the hooks listed in `durable_core.engine` (how to run one unit, how to start a durable run
from outside one, the replay-stable run id, ...) and overrides no public method.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import json
import sys
import warnings
import weakref
from abc import abstractmethod
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Coroutine,
    Generator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, cast

from pydantic import BaseModel, ConfigDict
from pydantic_ai import Agent, AgentStreamEvent, DeferredToolResults, RunContext, UsageLimits
from pydantic_ai.agent import AbstractAgent, AgentRun, AgentRunResult, EventStreamHandler, WrapperAgent
from pydantic_ai.capabilities import (
    AbstractCapability,
    CapabilityOrdering,
    CombinedCapability,
    DynamicCapability,
    Hooks,
    Instrumentation,
    ProcessEventStream,
    SetToolMetadata,
    WrapperCapability,
)
from pydantic_ai.messages import ModelMessage, UserContent
from pydantic_ai.models import Model, ModelResolutionContext, infer_model
from pydantic_ai.output import OutputDataT
from pydantic_ai.result import StreamedRunResult
from pydantic_ai.tools import AgentDepsT, Tool, ToolDefinition
from pydantic_ai.toolsets import AbstractToolset, DynamicToolset, ExternalToolset, FunctionToolset, WrapperToolset
from pydantic_ai.usage import RunUsage

from ._codec import decode, encode
from ._errors import DurableNameError, DurableUsageError, NotDurableWarning, NotInDurableUnitError, UnserializableError
from ._ids import UnitId, UnitKind, check_unique, derived_name, replay_stable_uuid, validate_name
from ._output_types import OutputTypes
from ._settings_codec import decode_model_settings, encode_model_settings
from ._units import (
    CURRENT_RUN_CONTEXT,
    SECRET_MODEL_SETTINGS,
    SECRET_SETTINGS_FIX,
    DurableModel,
    DurableToolset,
    EventRelay,
    MadeHere,
    UnitCall,
    UnitRunner,
    WorkflowSideEvents,
)

if TYPE_CHECKING:
    from pydantic_ai.mcp import MCPToolset

__all__ = [
    'AGENT_TOOLSET_ID',
    'DEFAULT_MODEL_KEY',
    'DurabilityCapability',
    'DurableAgent',
    'DurableUnit',
    'ParallelExecutionMode',
    'RunInputs',
    'ToolsetKind',
    'ToolsetLeaf',
    'UnitConfigs',
    'stable_run_id',
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
    external_tools: list[ToolDefinition] | None = None
    """The tools of `run(toolsets=[ExternalToolset(...)])`: nothing runs them, their calls end the run as deferred
    requests, so their definitions are all a recovered run needs."""


_RUN_INPUT_FIELDS: frozenset[str] = frozenset(RunInputs.model_fields)
"""Read once: `model_fields` is a property, costly in the comprehensions of every run."""

_MODELS_FAST = 'models={"fast": model}'
_MODELS_MINE = 'models={"my_model": model}'
_NAME_ARGUMENT = "name='...'"
"""Arguments an error's fix names (`DurableAgent._config_call`); constants, as Python 3.11 f-strings cannot nest
these quotes."""


# Arguments of `run`/`iter` that cannot be journaled, with the fix to name in the error.
_UNJOURNALED_ARGUMENTS = {
    'output_type': 'set `output_type` on the `Agent` itself',
    'conversation': 'pass `message_history=` and `conversation_id=` instead',
    'cancellation_token': 'cancel the workflow through the engine instead',
    'capabilities': 'add capabilities to the `Agent` itself',
    'workspace': 'workspaces are not supported by durable agents yet',
    'spec': 'apply the spec to the `Agent` before wrapping it',
    'compact': 'compact the history first with `compact_history()` and pass its messages as `message_history=`',
}


# The live agents by (engine name, agent name): a second agent with one name is refused (`_claim_name`).
# The results of runs whose body ran in this process, handed back live to the `run()` that started them.
_LIVE_RESULTS: ContextVar[list[AgentRunResult[Any]] | None] = ContextVar('durable_core_live_results', default=None)


class _StartingInputs:
    """The inputs of the run this process is starting, kept with their journaled text once the engine asked for it.

    The body of that run, started in this process, takes them as they are instead of decoding the text.
    """

    __slots__ = ('inputs', 'made')

    def __init__(self, inputs: RunInputs, keeps_values: bool) -> None:
        self.inputs = inputs
        self.made = MadeHere[RunInputs](keeps_values)


_STARTING_INPUTS: ContextVar[_StartingInputs | None] = ContextVar('durable_core_starting_inputs', default=None)

# The `event_stream_handler` passed to the `run()` in progress, until its `iter()` takes it (nested runs don't see it).
_RUN_EVENT_HANDLER: ContextVar[EventStreamHandler[Any] | None] = ContextVar('durable_core_run_handler', default=None)


def _decode_run_inputs(data: str | bytes) -> RunInputs:
    return decode(data, RunInputs)


_LIVE_AGENTS: weakref.WeakValueDictionary[tuple[str, str], DurableAgent[Any, Any]] = weakref.WeakValueDictionary()


ToolsetKind = Literal['function', 'mcp', 'dynamic', 'external', 'other']


@dataclass(frozen=True)
class ToolsetLeaf:
    """One leaf toolset of an agent, as the base describes it to an engine's hooks."""

    toolset_id: str
    """Its id in unit names (`agent` for the agent's own tools; for a dynamic toolset without an `id`, one derived
    from its function's `__qualname__`)."""
    kind: ToolsetKind
    """`function` (tools known up front), `mcp`, `dynamic` (`@agent.toolset`), `external` or `other`."""
    tool_names: tuple[str, ...]
    """A function toolset's tools, sorted; empty for the others."""
    toolset: AbstractToolset[Any]
    """The toolset itself."""
    derived_from: str | None = None
    """For a dynamic toolset without an `id`, the `__qualname__` of the function its id was derived from."""


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
    """Model-request units, and model-cancel units (a suspended response's job the run gives up on)."""
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
    """Per toolset id, for MCP and other I/O toolsets. A dynamic toolset without an `id` is keyed by the id derived
    from its function's `__qualname__` (`make_agent.<locals>.user_tools` gives `make_agent-user_tools`; see
    `ToolsetLeaf.derived_from` and "Upgrading safely")."""
    event: Any = None
    """Event-delivery units."""


class DurableAgent(WrapperAgent[AgentDepsT, OutputDataT], UnitRunner, Generic[AgentDepsT, OutputDataT]):
    """Base of `DBOSAgent`, `PrefectAgent` and `TemporalAgent`: a PydanticAI agent whose runs are durable.

    An engine subclass sets the class attributes below and implements the `_hooks` listed in
    `durable_core.engine`; it overrides no public method.
    """

    engine_name: str = 'engine'
    """Name of the engine in messages, such as `DBOS`."""
    wrapper_name: str = 'DurableAgent'
    """Name of the wrapper class in messages, such as `DBOSAgent`."""
    container_noun: str = 'workflow'
    """What a durable run is called on this engine: `workflow` or `flow`."""
    tool_config_argument: str = 'the tool configs'
    """The engine's argument that configures tools by name, such as `tool_step_config_by_name`, for messages."""
    _run_is_unit: bool = True
    """Whether the engine journals a run as a unit of its own (`<agent>.run`); Temporal's is the user's workflow."""
    _starts_durable_runs: bool = True
    """Whether `run()` outside a durable run starts one (`_start_durable_run`); if not, it runs like the plain agent
    and warns once (Temporal: only a client starts a workflow)."""
    _runs_in_durable_code_are_children: bool = False
    """Whether `run()` called in workflow code starts a child run with a journal of its own (DBOS), rather than
    running inline in the caller's journal."""
    _streams_durable_runs: bool = False
    """Whether `run_stream()` outside a durable run runs the agent durably, then streams its result (Prefect)."""
    _refused_in_durable_code: frozenset[str] = frozenset({'run_stream', 'run_stream_events'})
    """Entry points refused in workflow code (`_in_engine_code`): a stream cannot be replayed."""
    _duplicate_name_reason: str | None = None
    """Why two live agents of this engine may not share a name, for the error; `None` leaves the check to the
    engine (Temporal checks the agents of one worker)."""
    _same_name_for_the_same_units: bool = False
    """Whether an agent may be created again under a live agent's name when it has the same units (Prefect: a
    flow may create its agent each time it runs); the newer one then answers to the name."""
    _capability_form: bool = False
    """Whether this wrapper is the one a `DurabilityCapability` runs on: its errors then name the capability's
    call (`Agent(..., capabilities=[DBOSDurability(models=...)])`), not the wrapper's."""
    _units_run_in_process: bool = True
    """Whether units run in the process of the run that calls them, so that an `event_stream_handler` passed to
    `run()` can be called inside them; if not (Temporal's activities run on a worker), it is refused in a run."""
    _model_units_take_run_context: bool = False
    """Whether a model-request unit needs the run's context even without an event handler (Prefect scopes its
    cache keys by the run's id)."""
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
        durability = _durability_of(wrapped)
        if durability is not None and type(self) is not durability._wrapper_class:  # pyright: ignore[reportPrivateUsage]
            raise DurableUsageError(
                f'This agent already has {type(durability).__name__}, so its runs are durable as they are: '
                f'{self.wrapper_name} would journal them a second time. Run the agent itself, or wrap an agent '
                'without the capability.'
            )
        self._name = validate_name(
            name or wrapped.name,
            what='agent name',
            fix=f"Agent(..., name='my_agent') or {self._config_call('name=...')}",
        )
        if parallel_execution_mode not in ('parallel_ordered_events', 'sequential'):
            raise DurableUsageError(
                "parallel_execution_mode must be 'parallel_ordered_events' or 'sequential', "
                f'got {parallel_execution_mode!r}'
            )
        self._parallel_execution_mode: ParallelExecutionMode = parallel_execution_mode
        self._event_stream_handler = event_stream_handler or wrapped.event_stream_handler
        self._models = self._check_models(models or {})
        if wrapped.model is None and not self._models:
            raise DurableUsageError(
                f'The agent {self._name!r} has no model, and {self.wrapper_name} registers none: a recovered run '
                "must find its model where it resumes. Give the agent one, Agent('openai:gpt-6.1-sol', ...), or "
                f'register models to choose from at run time: {self._config_call(_MODELS_FAST)}.'
            )
        self._toolsets, self._toolsets_without_id = self._collect_toolsets(wrapped.toolsets)
        self._warned_not_durable = False
        # What `override(model=..., deps=...)` set in durable code: a run started there journals these.
        self._durable_overrides: ContextVar[Mapping[str, Any] | None] = ContextVar(
            f'{self._name}_overrides', default=None
        )
        self._claim_name()

    def _config_call(self, arguments: str) -> str:
        """The call that gives this agent's durability `arguments`, for an error's fix: wrapper's or capability's."""
        if self._capability_form:
            return f'Agent(..., capabilities=[{self.wrapper_name}({arguments})])'
        return f'{self.wrapper_name}(agent, {arguments})'

    def _claim_name(self) -> None:
        """Refuse a second live agent of this engine with this name: one guard for every engine."""
        if self._duplicate_name_reason is None:
            return
        key = (self.engine_name, self._name)
        other = _LIVE_AGENTS.get(key)
        if other is not None and other is not self and not self._may_replace(other):
            again = ' (one with the same tools may be created again)' if self._same_name_for_the_same_units else ''
            raise DurableNameError(
                f'Another {self.wrapper_name} is already named {self._name!r}{again}: '
                f'{self._duplicate_name_reason}. Give each agent a unique name: '
                f"Agent(..., name='...') or {self._config_call(_NAME_ARGUMENT)}."
            )
        _LIVE_AGENTS[key] = self

    def _may_replace(self, other: DurableAgent[Any, Any]) -> bool:
        return self._same_name_for_the_same_units and other._unit_shape() == self._unit_shape()

    def _unit_shape(self) -> tuple[Any, ...]:
        """What decides an agent's units, whatever their configs: its toolsets and tools, models and event handler."""
        toolsets = tuple((leaf.toolset_id, leaf.kind, leaf.tool_names) for leaf in self._toolsets)
        return toolsets, tuple(sorted(self._models)), self._event_stream_handler is not None

    @classmethod
    def named(cls, name: str) -> DurableAgent[Any, Any] | None:
        """The live agent of this engine named `name`, if one was created in this process."""
        return _LIVE_AGENTS.get((cls.engine_name, name))

    @property
    def unit_configs(self) -> UnitConfigs:
        """The configs of this agent's units; engines set it in their `__init__`, which checks every name in it."""
        return self._unit_configs

    @unit_configs.setter
    def unit_configs(self, configs: UnitConfigs) -> None:
        self._check_config_names(configs)
        self._unit_configs = configs

    def _check_config_names(self, configs: UnitConfigs) -> None:
        """Refuse a config for a tool or toolset the agent does not have: a typo would silently configure nothing.

        And a function toolset without an id whose tools would be units: a unit's name needs the toolset's id.
        """
        for toolset in self._toolsets_without_id:
            # The default config covers tools added to the toolset later too.
            if configs.tool is not None or any(tool in configs.tool_by_name for tool in toolset.tools):
                raise DurableNameError(
                    'A FunctionToolset without an id would run its tools as durable units, whose names need the '
                    "toolset's id. Give the toolset an id: FunctionToolset(..., id='my_toolset')."
                )
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

    # ---- hooks an engine fills in (see `durable_core.engine`) ---------------------------------

    @abstractmethod
    def _in_durable_context(self) -> bool:
        """Whether the caller is this agent's workflow (or flow) code, where I/O must go through units."""

    @abstractmethod
    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run `execute` as one durable unit and return its JSON, or return the journaled JSON on recovery."""

    @abstractmethod
    def _durable_run_id(self) -> str:
        """A run id that is the same when the engine re-executes the run (called in workflow code)."""

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any] | str:
        """Start a durable run from outside the agent's workflow code; return its result or its journaled JSON.

        The run's body calls `run_inputs(inputs)`. A result object is returned to the caller as it is; JSON is
        decoded with `decode_result`, unless the body ran in this process and handed its live result back. An
        engine that sets `_starts_durable_runs = False` needs no implementation.
        """
        raise NotImplementedError(f'{self.wrapper_name} does not start durable runs by itself.')

    def _in_engine_code(self) -> bool:
        """Whether the caller is code of any workflow or flow of the engine, not only this agent's."""
        return self._in_durable_context()

    def _durable_scope_for_iter(self) -> AbstractAsyncContextManager[None] | None:
        """A context for an `iter()` in engine code outside this agent's durable code, or `None` to refuse it there.

        The context makes the caller's code this agent's durable code while the run lasts (Prefect: the caller's
        flow run, whose tasks then run the units).
        """
        return None

    def _before_tool_calls(self, ctx: RunContext[Any], tool_call_ids: Sequence[str]) -> None:
        """Called in workflow code before a step's tool calls start, in call order."""

    def _run_capabilities(self) -> Sequence[AbstractCapability[Any]]:
        """Capabilities the engine adds to each durable run (Temporal: its replay-safe clock)."""
        return ()

    def _after_run(self, run_id: str) -> None:
        """Called in workflow code when a durable run ends, however it ends: release per-run state."""

    def _toolset_unit_kinds(self, kind: ToolsetKind) -> tuple[UnitKind, ...]:
        """The kinds of unit of an I/O toolset of `kind` (`mcp`, `dynamic`, `other`).

        By default an MCP toolset's listing, instructions and calls are units, and another toolset's calls; an engine
        that also journals a dynamic toolset's listing (Temporal) returns more.
        """
        if kind == 'mcp':
            return ('mcp_get_tools', 'mcp_get_instructions', 'mcp_call_tool')
        if kind in ('dynamic', 'other'):
            return ('toolset_call_tool',)
        return ()

    def _wrap_io_toolset(self, leaf: ToolsetLeaf) -> AbstractToolset[Any] | None:
        """The durable stand-in of an MCP or dynamic toolset in a run, or `None` for the base's own."""
        return None

    # ---- the unit runner that durable models and toolsets call ------------------------------------

    def in_durable_context(self) -> bool:
        """Whether the caller is this agent's workflow (or flow) code, where I/O goes through durable units."""
        return self._in_durable_context()

    async def run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run `execute` as one durable unit of this agent (the engine's `_run_unit`)."""
        return await self._run_unit(call, execute)

    def unit_config(self, unit: UnitId) -> Any:
        """The engine-native config a unit of this agent runs with (see `UnitConfigs`)."""
        if unit.kind in ('model_request', 'model_cancel'):
            return self.unit_configs.model
        if unit.kind == 'event_handler':
            return self.unit_configs.event
        if unit.kind == 'tool_call':
            return self._tool_config(unit.toolset or '', unit.tool or '')
        return self.unit_configs.toolset_by_id.get(unit.toolset or '', self.unit_configs.mcp)

    def _tool_config(self, toolset_id: str, tool_name: str) -> Any | None:
        """The config of one function tool's unit, or `None` to run the tool in workflow code."""
        configs = self.unit_configs
        if (toolset_id, tool_name) in configs.tool_by_toolset_and_name:
            return configs.tool_by_toolset_and_name[(toolset_id, tool_name)]
        if tool_name in configs.tool_by_name:
            return configs.tool_by_name[tool_name]
        return configs.tool_by_toolset.get(toolset_id, configs.tool)

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

    def durable_units(self) -> list[DurableUnit]:
        """Every durable unit of this agent with its config: the one list that names, registers and configures them.

        A function tool is a unit only when it has a config (see `UnitConfigs`); one that runs in workflow code is
        not journaled, so it is not listed.
        """
        ids: list[UnitId] = [self.unit('run')] if self._run_is_unit else []
        ids.extend((self.unit('model_request'), self.unit('model_cancel')))
        if self._event_stream_handler is not None:
            ids.append(self.unit('event_handler'))
        for leaf in self._toolsets:
            if leaf.kind == 'function':
                tools = (self.unit('tool_call', leaf.toolset_id, tool) for tool in leaf.tool_names)
                ids.extend(unit for unit in tools if self.unit_config(unit) is not None)
            ids.extend(self.unit(kind, leaf.toolset_id) for kind in self._toolset_unit_kinds(leaf.kind))
        return [DurableUnit(unit, None if unit.kind == 'run' else self.unit_config(unit)) for unit in ids]

    def durable_unit_names(self) -> list[str]:
        """Every durable-unit name of this agent, sorted: pin them in a test to notice a breaking rename."""
        return sorted(str(unit.unit) for unit in self.durable_units())

    @property
    def event_stream_handler(self) -> EventStreamHandler[AgentDepsT] | None:
        """Inside a durable run, the relay that delivers each event from a unit; outside, the user's handler."""
        run_handler = _RUN_EVENT_HANDLER.get()
        handler = run_handler or self._event_stream_handler
        if handler is None or not self.in_durable_context():
            return self._event_stream_handler
        if self._event_stream_handler is None:
            # No event units: the run journals the same units whether or not its caller passed a handler.
            return WorkflowSideEvents(handler)
        unit = self.unit('event_handler')
        return EventRelay(runner=self, unit=unit, config=self.unit_config(unit), handler=handler)

    # ---- validation at construction ----------------------------------------------------------

    def _check_models(self, models: Mapping[str, Model | str]) -> dict[str, Model]:
        checked: dict[str, Model] = {}
        for key, model in models.items():
            validate_name(key, what='model key', fix=self._config_call(_MODELS_FAST))
            if key == DEFAULT_MODEL_KEY:
                raise DurableNameError(
                    f"The model key {DEFAULT_MODEL_KEY!r} is reserved for the agent's own model. "
                    f'Choose another key in {self._config_call("models={...}")}.'
                )
            checked[key] = infer_model(model)
        return checked

    def _collect_toolsets(
        self, toolsets: Sequence[AbstractToolset[Any]]
    ) -> tuple[list[ToolsetLeaf], list[FunctionToolset[Any]]]:
        """The leaf toolsets, and apart the function toolsets without an id (their tools can only run inline)."""
        infos: list[ToolsetLeaf] = []
        without_id: list[FunctionToolset[Any]] = []

        def visit(leaf: AbstractToolset[Any]) -> None:
            if isinstance(leaf, WrapperToolset):
                return  # a capability's toolset visits its own wrapper too (`CapabilityOwnedToolset.apply`)
            if isinstance(leaf, FunctionToolset) and leaf.id is None:
                without_id.append(leaf)
                return
            infos.append(self._describe_leaf(leaf))

        for toolset in toolsets:
            toolset.apply(visit)
        by_id: dict[str, ToolsetLeaf] = {}
        for info in infos:
            other = by_id.setdefault(info.toolset_id, info)
            if other is not info and (info.derived_from or other.derived_from):
                raise DurableNameError(
                    f'Two toolsets both have the toolset id {info.toolset_id!r}: {_leaf_origin(other)} and '
                    f"{_leaf_origin(info)}. A dynamic toolset without an id takes its function's qualified name as "
                    "its id, and each id must be unique: give one an id: @agent.toolset(id='my_toolset') or "
                    "DynamicToolset(func, id='my_toolset')."
                )
        check_unique(
            (info.toolset_id for info in infos),
            what='toolset id',
            fix=f'Give each toolset its own id, such as FunctionToolset(id=...); the id {AGENT_TOOLSET_ID!r} is '
            "reserved for the agent's own tools",
        )
        return infos, without_id

    def _describe_leaf(self, leaf: AbstractToolset[Any]) -> ToolsetLeaf:
        raw_id = leaf.id
        if raw_id is None and isinstance(leaf, DynamicToolset):
            # `@agent.toolset`, `Agent(toolsets=[func])` or a capability's toolset function, without an id: the
            # function's qualified name, the same in the worker and the workflow and from one deploy to the next.
            qualname = _toolset_function_qualname(leaf)
            return ToolsetLeaf(derived_name(qualname), 'dynamic', (), leaf, derived_from=qualname)
        if raw_id == '<agent>':
            toolset_id = AGENT_TOOLSET_ID
        else:
            fix = _toolset_id_fix(leaf)
            toolset_id = validate_name(raw_id, what=f'id for the toolset {type(leaf).__name__}', fix=fix)
        if isinstance(leaf, FunctionToolset):
            return ToolsetLeaf(toolset_id, 'function', tuple(sorted(leaf.tools)), leaf)
        if is_mcp_toolset(leaf):
            return ToolsetLeaf(toolset_id, 'mcp', (), leaf)
        if isinstance(leaf, DynamicToolset):
            return ToolsetLeaf(toolset_id, 'dynamic', (), leaf)
        if isinstance(leaf, ExternalToolset):
            return ToolsetLeaf(toolset_id, 'external', (), leaf)
        return ToolsetLeaf(toolset_id, 'other', (), leaf)

    def toolset_leaf(self, toolset_id: str) -> ToolsetLeaf:
        """The agent's leaf toolset with this id (as registered on the agent, before any run copies it)."""
        for leaf in self._toolsets:
            if leaf.toolset_id == toolset_id:
                return leaf
        raise DurableNameError(
            f'The agent {self._name!r} has no toolset {toolset_id!r}: deploy the same tools on every worker.'
        )

    # ---- wrapping in durable units -------------------------------------------------------------

    def _durable_model(
        self,
        model: Model,
        model_key: str | None,
        event_stream_handler: EventStreamHandler[Any] | None,
        *,
        replay_events: bool | None = None,
    ) -> DurableModel:
        unit = self.unit('model_request')
        return DurableModel(
            model,
            runner=self,
            unit=unit,
            config=self.unit_config(unit),
            cancel_call=self.unit_call('model_cancel'),
            event_stream_handler=event_stream_handler,
            model_key=model_key,
            replay_events=replay_events,
        )

    def unit_call(self, kind: UnitKind, toolset: str | None = None, tool: str | None = None) -> UnitCall:
        """A call of one of this agent's units, with its config."""
        unit = self.unit(kind, toolset, tool)
        return UnitCall(unit, self.unit_config(unit))

    def _wrap_leaf(self, toolset: AbstractToolset[Any]) -> AbstractToolset[Any]:
        if isinstance(toolset, DurableToolset | ExternalToolset):
            return toolset  # an external toolset runs nothing: its calls end the run as deferred requests
        if any(toolset is known for known in self._toolsets_without_id):
            return toolset  # its tools run in workflow code: checked when the configs were set
        leaf = self._describe_leaf(toolset)
        if leaf.kind in ('mcp', 'dynamic'):
            stand_in = self._wrap_io_toolset(leaf)
            if stand_in is not None:
                return stand_in

        def unit_for(tool_name: str) -> UnitCall | None:
            if leaf.kind == 'function':
                call = self.unit_call('tool_call', leaf.toolset_id, tool_name)
                return None if call.config is None else call
            return self.unit_call('mcp_call_tool' if leaf.kind == 'mcp' else 'toolset_call_tool', leaf.toolset_id)

        if leaf.kind == 'mcp':
            from ._mcp import DurableMCPToolset

            return DurableMCPToolset(
                cast('MCPToolset[Any]', toolset),
                runner=self,
                unit_for=unit_for,
                list_tools_call=self.unit_call('mcp_get_tools', leaf.toolset_id),
                instructions_call=self.unit_call('mcp_get_instructions', leaf.toolset_id),
            )
        return DurableToolset(toolset, runner=self, unit_for=unit_for)

    def _resolve_model(self, model: Model | str | None) -> Model | None:
        """Turn a run's `model=` into a model instance; instances must have been registered."""
        if model is None:
            return None
        if isinstance(model, str):
            if model in self._models:
                return self._models[model]
            if model == DEFAULT_MODEL_KEY:
                return None
            self._prepare_model_string(model)
            return infer_model(model)
        for registered in self._models.values():
            if registered is model:
                return model
        if model is self.wrapped.model:
            return None
        raise DurableUsageError(
            f'The model instance {model!r} was not registered with this {self.wrapper_name}, so a recovered '
            f'{self.container_noun} could not find it. Register it: '
            f'{self._config_call(_MODELS_MINE)} '
            "and run with model='my_model', or pass a model string such as 'openai:gpt-6.1-sol'."
        )

    def _prepare_model_string(self, model_id: str) -> None:
        """Hook: before a model is built in durable code from an unregistered model string (`'openai:gpt-6.1-sol'`).

        Called for a run's `model=` and, in the capability form, for the agent's own model string, which PydanticAI
        builds in the run. Nothing by default. An engine whose durable code must not take long to import the
        provider's SDK (Temporal's workflow code, under a deadlock timer) imports it here first, elsewhere.
        """

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
        if event_stream_handler is not None and not self._units_run_in_process:
            raise DurableUsageError(
                f'An event_stream_handler passed to run() inside a {self.engine_name} {self.container_noun} cannot '
                f'reach the model requests, which run elsewhere. Pass it with the durability instead: '
                f'{self._config_call("event_stream_handler=handler")}.'
            )
        if toolsets and not all(isinstance(toolset, ExternalToolset) for toolset in toolsets):
            raise DurableUsageError(
                f'Toolsets passed at run time cannot be made durable: the {self.container_noun} must know every unit '
                f'before it runs. Register them on the agent, Agent(..., toolsets=[...]), where {self.wrapper_name} '
                'sees them. (An ExternalToolset, which runs nothing, may be passed at run time.)'
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
        """Run-time model settings are journaled (run inputs, or a unit's inputs): refuse the ones that hold secrets.

        The agent's own are not refused: a unit whose inputs are journaled leaves them out, and its worker merges
        them back from the agent it registered (`withhold_secret_settings`).
        """
        if model_settings and any(key in model_settings for key in SECRET_MODEL_SETTINGS):
            raise DurableUsageError(SECRET_SETTINGS_FIX)

    def _build_inputs(self, arguments: Mapping[str, Any]) -> RunInputs:
        """A run's arguments (the `RunInputs` fields; those left out are `None`) as the engine journals them.

        JSON-ready and checked now, before anything is journaled.
        """
        arguments = {name: arguments.get(name) for name in RunInputs.model_fields}
        model_settings = arguments['model_settings']
        self._refuse_secret_settings(model_settings)
        user_prompt, history, deps = arguments['user_prompt'], arguments['message_history'], arguments['deps']
        try:
            values: dict[str, Any] = {
                **arguments,
                'user_prompt': user_prompt
                if user_prompt is None or isinstance(user_prompt, str)
                else list(user_prompt),
                'message_history': None if history is None else list(history),
                'model': self._model_key(arguments['model']),
                'deps': None if deps is None else self.encode_deps(deps),
                'model_settings': None
                if model_settings is None
                else json.loads(encode_model_settings(cast(Any, dict(model_settings)))),
            }
            RunInputs.model_validate(values)  # refuses a value of the wrong type now
            # ...but keeps the caller's objects: validating would rebuild some, such as a `BinaryContent` image as
            # a `BinaryImage`.
            return RunInputs.model_construct(**values)
        except DurableUsageError:
            raise
        except Exception as error:
            raise UnserializableError(f'The inputs of this run cannot be journaled as JSON: {error}') from error

    def _run_arguments(self, inputs: RunInputs) -> dict[str, Any]:
        """A run's arguments rebuilt from its journaled inputs."""
        arguments = {name: getattr(inputs, name) for name in RunInputs.model_fields}
        arguments['deps'] = self.decode_deps(inputs.deps)
        if inputs.model_settings is not None:
            arguments['model_settings'] = decode_model_settings(json.dumps(inputs.model_settings))
        external_tools = arguments.pop('external_tools')
        if external_tools:
            arguments['toolsets'] = [ExternalToolset[Any](list(external_tools))]
        return arguments

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
        # The journaled arguments are the `RunInputs` fields; the signature is the only other place naming them.
        arguments = {name: value for name, value in locals().items() if name in _RUN_INPUT_FIELDS}
        in_durable_context = self._in_durable_context()
        if not in_durable_context and not self._starts_durable_runs:
            # Not durable (`iter` warns): the plain agent's run, with everything it accepts.
            return await super().run(
                event_stream_handler=event_stream_handler, toolsets=toolsets, **arguments, **kwargs
            )
        if kwargs.get('compact') is False:  # PydanticAI's default (2.78), which its `run_sync` passes on to `run`
            del kwargs['compact']
        self._check_run_arguments(event_stream_handler, toolsets, kwargs)
        kwargs.pop('infer_name', None)  # the name is fixed at construction
        token = _RUN_EVENT_HANDLER.set(event_stream_handler)  # this run's `iter()` takes it, in this process
        try:
            return await self._run_durably(arguments, toolsets, kwargs, in_durable_context=in_durable_context)
        finally:
            _RUN_EVENT_HANDLER.reset(token)

    async def _run_durably(
        self,
        arguments: dict[str, Any],
        toolsets: Sequence[AbstractToolset[AgentDepsT]] | None,
        kwargs: dict[str, Any],
        *,
        in_durable_context: bool,
    ) -> AgentRunResult[Any]:
        if in_durable_context:  # an override in force wins over run()'s arguments, as in PydanticAI; journal it
            arguments.update(self._durable_overrides.get() or {})
        self._check_deps_round_trip(arguments['deps'])
        if in_durable_context and not self._runs_in_durable_code_are_children:
            self._resolve_model(arguments['model'])
            return await super().run(**arguments, toolsets=toolsets, **kwargs)
        unexpected = sorted(name for name, value in kwargs.items() if value is not None)
        if unexpected:
            raise TypeError(f'{type(self).__name__}.run() got unexpected arguments: {unexpected}')
        external_tools = [tool for toolset in toolsets or () for tool in cast(ExternalToolset[Any], toolset).tool_defs]
        inputs = self._build_inputs({**arguments, 'external_tools': external_tools or None})
        live_results: list[AgentRunResult[Any]] = []
        token = _LIVE_RESULTS.set(live_results)
        starting_token = _STARTING_INPUTS.set(_StartingInputs(inputs, self.keeps_unit_values))
        try:
            result = await self._start_durable_run(inputs)
        finally:
            _STARTING_INPUTS.reset(starting_token)
            _LIVE_RESULTS.reset(token)
        if not isinstance(result, str):
            return result  # the engine's own result object (DBOS hands back the live one)
        if live_results:  # the body ran in this process: its live objects, not their journaled copies
            return live_results[-1]
        return self.decode_result(result)

    async def run_inputs(self, inputs: RunInputs) -> AgentRunResult[Any]:
        """Run the agent from journaled inputs: the body of an engine's workflow or flow, in its durable code."""
        live_results = _LIVE_RESULTS.get()
        token = _LIVE_RESULTS.set(None)  # runs started by this one hand their results to their own callers
        try:
            result = await super().run(**self._run_arguments(inputs))
        finally:
            _LIVE_RESULTS.reset(token)
        if live_results is not None:
            live_results.append(result)
        return result

    def encode_inputs(self, inputs: RunInputs) -> str:
        """A run's inputs as journaled JSON: every field as the caller passed it, `None`s included."""
        text = encode(inputs, RunInputs).decode()
        starting = _STARTING_INPUTS.get()
        if starting is not None and starting.inputs is inputs:
            starting.made.keep(inputs, text)
        return text

    def decode_inputs(self, data: str | bytes) -> RunInputs:
        """Run inputs rebuilt from `encode_inputs`'s JSON, or the inputs themselves in the process starting the run."""
        starting = _STARTING_INPUTS.get()
        if starting is not None and isinstance(data, str):
            return starting.made.read(data, _decode_run_inputs)
        return _decode_run_inputs(data)

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
        if not self._in_durable_context():
            if self._in_engine_code():
                scope = self._durable_scope_for_iter()
                if scope is None:
                    raise NotInDurableUnitError(
                        f'{self.wrapper_name}.iter() inside another {self.engine_name} {self.container_noun} would '
                        f'not be durable: its model requests and tool calls would not be journaled. Use run(), which '
                        f'runs the agent as a durable {self.container_noun} of its own.'
                    )
                # The caller's code is this agent's durable code while the run lasts: its I/O runs in units.
                async with (
                    scope,
                    self.iter(
                        user_prompt, model=model, toolsets=toolsets, capabilities=capabilities, run_id=run_id, **kwargs
                    ) as run,
                ):
                    yield run
                return
            if not self._starts_durable_runs:
                self._warn_not_durable()
            async with super().iter(
                user_prompt, model=model, toolsets=toolsets, capabilities=capabilities, run_id=run_id, **kwargs
            ) as run:
                yield run
            return
        if toolsets:
            self._check_run_arguments(None, toolsets, {})
        self._refuse_secret_settings(kwargs.get('model_settings'))
        model = (self._durable_overrides.get() or {}).get('model', model)
        resolved = self._resolve_model(model)
        base_model = resolved or self.wrapped.model
        if base_model is None:
            raise DurableUsageError(f'The agent has no model: Agent(model=...) or {self.wrapper_name}.run(model=...).')
        run_id = run_id or self._durable_run_id()
        handler = _RUN_EVENT_HANDLER.get() or self._event_stream_handler
        handler_token = _RUN_EVENT_HANDLER.set(None)  # runs started inside this one have their own
        durable_model = self._durable_model(infer_model(base_model), self._model_key(model), handler)
        needs_request_context = self._model_units_take_run_context or handler is not None
        durability = (_DurabilityWithRequestContext if needs_request_context else _DurabilityCapability)(self)
        run_capabilities = [*(capabilities or []), durability, *self._run_capabilities()]
        try:
            with Agent.parallel_tool_call_execution_mode(self._parallel_execution_mode):
                async with super().iter(
                    user_prompt,
                    model=durable_model,
                    toolsets=toolsets,
                    capabilities=run_capabilities,
                    run_id=run_id,
                    **kwargs,
                ) as run:
                    yield run
        finally:
            _RUN_EVENT_HANDLER.reset(handler_token)
            self._after_run(run_id)

    def _warn_not_durable(self) -> None:
        if not self._warned_not_durable:
            self._warned_not_durable = True
            warnings.warn(
                f'{self.wrapper_name} {self.name!r} was run outside a {self.engine_name} {self.container_noun}, so '
                f'this run is not durable: it runs like the plain agent. Run it from a {self.container_noun} to make '
                'it durable.',
                NotDurableWarning,
                stacklevel=4,
            )

    # ---- entry points that are not durable -------------------------------------------------

    def _refuse_in(self, entry_point: str, *, in_code: bool) -> None:
        if entry_point in self._refused_in_durable_code and in_code:
            reason = (
                f'it would block the {self.container_noun}. Use `await agent.run(...)` instead.'
                if entry_point == 'run_sync'
                else 'events would be lost or repeated on recovery. Use run() with '
                f'{self._config_call("event_stream_handler=...")} to see events as they happen.'
            )
            raise NotInDurableUnitError(
                f'{entry_point}() is not supported inside a {self.engine_name} {self.container_noun}: {reason}'
            )

    def run_sync(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Run synchronously; refused in workflow code where it would block (Temporal)."""
        self._refuse_in('run_sync', in_code=self._in_durable_context())
        return super().run_sync(*args, **kwargs)

    def run_stream(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Stream a run outside a durable run; inside one, use `event_stream_handler` instead.

        On an engine that streams durable runs (Prefect), the run is durable and the stream yields once it has
        finished; to see events as they happen, pass `event_stream_handler=` when wrapping the agent.
        """
        self._refuse_in('run_stream', in_code=self._in_durable_context())
        if self._streams_durable_runs:
            return self._stream_durable_run(*args, **kwargs)
        return super().run_stream(*args, **kwargs)

    @asynccontextmanager
    async def _stream_durable_run(self, *args: Any, **kwargs: Any) -> AsyncGenerator[StreamedRunResult[Any, Any]]:
        result = await self.run(*args, **kwargs)
        messages = result.all_messages()
        yield StreamedRunResult(messages, len(messages) - len(result.new_messages()), run_result=result)

    def run_stream_events(self, *args: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Stream a run's events outside any workflow (not durable); inside one, use `event_stream_handler` instead."""
        self._refuse_in('run_stream_events', in_code=self._in_engine_code())
        # The plain agent's stream: PydanticAI's own would call `run(event_stream_handler=...)`, which a durable run
        # refuses (the handler could not be journaled).
        return self.wrapped.run_stream_events(*args, **kwargs)

    def realtime(self, model: Any, **kwargs: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        """A realtime session accessor, outside a durable run; inside one, refused: a session cannot be journaled."""
        if self._in_engine_code():
            raise self._realtime_refusal()
        return super().realtime(model, **kwargs)

    def _realtime_refusal(self) -> NotInDurableUnitError:
        """Why a realtime session is refused in engine code: the wrapper's `realtime()`, the capability's session."""
        container = self.container_noun
        return NotInDurableUnitError(
            f'A realtime session is not supported inside a {self.engine_name} {container} (an agent with '
            f'{self._config_call("...")}): a realtime session streams audio, text and tool calls live, which cannot '
            f'be journaled or replayed on recovery. Open the session outside the {container}, or use run() for '
            'durable turns.'
        )

    def override(self, **kwargs: Any) -> AbstractContextManager[None]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Override agent configuration; inside a durable run, only with what can be made durable.

        Outside a durable run, everything PydanticAI's `override` takes. Inside one (workflow or flow code, or any
        engine code that starts durable runs: on Prefect, any flow's), `deps=`
        (journaled with any run started there, so they must serialize through `deps_type`), `model=` a model that
        `run(model=...)` takes (a registered key or instance, the agent's own, or a model string), and `toolsets=`
        or `tools=` made only of toolsets and tools the agent already has (they have units). Anything else is
        refused with `NotInDurableUnitError`, naming the fix.
        """
        if not self.in_durable_context() and not self._in_engine_code():
            return super().override(**kwargs)
        durable = dict(self._durable_overrides.get() or {})
        if 'model' in kwargs:
            durable['model'] = kwargs.pop('model')
            self._check_override_model(durable['model'])
        if 'deps' in kwargs:
            self._check_deps_round_trip(kwargs['deps'])
            durable['deps'] = kwargs['deps']
        if 'toolsets' in kwargs:
            self._check_override_toolsets(kwargs['toolsets'])
        if 'tools' in kwargs:
            self._check_override_tools(kwargs['tools'])
        return self._durable_override(durable, kwargs)

    @contextmanager
    def _durable_override(self, durable: Mapping[str, Any], kwargs: dict[str, Any]) -> Generator[None]:
        token = self._durable_overrides.set(durable)
        try:
            # The model is not the wrapped agent's override: a run wraps it in its durable units (`iter`).
            with super().override(**kwargs):
                yield
        finally:
            self._durable_overrides.reset(token)

    def _override_refused(self, what: str, fix: str) -> NotInDurableUnitError:
        return NotInDurableUnitError(
            f'override(model=..., toolsets=...) is not supported inside a {self.engine_name} {self.container_noun} '
            f'with {what}: it has no durable unit, so a recovered {self.container_noun} could not run it the same way. '
            f'{fix}'
        )

    def _check_override_model(self, model: Any) -> None:
        try:
            self._resolve_model(model)
        except DurableUsageError as error:
            raise self._override_refused(
                f'the model {model!r}, which was not registered',
                f'Register it: {self._config_call(_MODELS_MINE)}, then override with '
                "model='my_model' or that instance.",
            ) from error

    def _check_override_toolsets(self, toolsets: Sequence[AbstractToolset[Any]]) -> None:
        known = [leaf.toolset for leaf in self._toolsets]
        for toolset in toolsets:
            leaves: list[AbstractToolset[Any]] = []
            toolset.apply(leaves.append)
            for leaf in leaves:
                if isinstance(leaf, WrapperToolset) or any(
                    leaf is other or _same_dynamic(leaf, other) for other in known
                ):
                    continue
                raise self._override_refused(
                    f'the toolset {leaf.label}, which the agent does not have',
                    f'Register it on the agent before wrapping it (Agent(..., toolsets=[...])), then override with '
                    f'that same toolset; the agent has the toolsets {sorted(i.toolset_id for i in self._toolsets)}.',
                )

    def _check_override_tools(self, tools: Sequence[Any]) -> None:
        own = next((leaf.toolset for leaf in self._toolsets if leaf.toolset_id == AGENT_TOOLSET_ID), None)
        known: dict[str, Tool[Any]] = dict(own.tools) if isinstance(own, FunctionToolset) else {}
        for tool in tools:
            if isinstance(tool, Tool):
                given = cast(Tool[Any], tool)
                registered = known.get(given.name)
                ok = registered is not None and (registered is given or _function(registered) is _function(given))
            else:
                ok = any(_function(registered) is tool for registered in known.values())
            if not ok:
                name = tool.name if isinstance(tool, Tool) else getattr(tool, '__name__', repr(tool))
                raise self._override_refused(
                    f'the tool {name!r}, which the agent does not have',
                    f'Register it on the agent before wrapping it (@agent.tool or Agent(..., tools=[...])), then '
                    f'override with that same function or Tool; the agent has the tools {sorted(known)}.',
                )


class _DurabilityCapability(AbstractCapability[Any]):
    """Per-run hooks of a durable run: durable toolsets, replay-stable ids, the run context of model requests."""

    def __init__(self, agent: DurableAgent[Any, Any]) -> None:
        self._agent = agent

    def get_wrapper_toolset(self, toolset: AbstractToolset[Any]) -> AbstractToolset[Any] | None:
        return toolset.visit_and_replace(self._agent._wrap_leaf)  # pyright: ignore[reportPrivateUsage]

    def get_default_conversation_id(self, run_id: str) -> str | None:
        # Derived from the replay-stable run id, so a recovered run reports the same conversation.
        return replay_stable_uuid('conversation', run_id)

    async def before_node_run(self, ctx: RunContext[Any], *, node: Any) -> Any:
        if Agent.is_call_tools_node(node):
            self._agent._before_tool_calls(ctx, [call.tool_call_id for call in node.model_response.tool_calls])  # pyright: ignore[reportPrivateUsage]
        return node


class _DurabilityWithRequestContext(_DurabilityCapability):
    """Also hands each model request's run context to its unit.

    A class of its own: PydanticAI calls the hook of every capability that defines it, and only some runs need it
    (an event handler, a Prefect cache scope).
    """

    async def wrap_model_request(self, ctx: RunContext[Any], *, request_context: Any, handler: Any) -> Any:
        token = CURRENT_RUN_CONTEXT.set(ctx)
        try:
            return await handler(request_context)
        finally:
            CURRENT_RUN_CONTEXT.reset(token)


class DurabilityCapability(AbstractCapability[AgentDepsT]):
    """The capability form of an engine: `Agent(..., name='x', capabilities=[DBOSDurability(...)])`.

    A thin shell over the engine's wrapper, so the two forms cannot drift: the capability builds the engine's
    `DurableAgent` around its agent (its one list of units, their names and configs, the engine's hooks), and a run
    in the engine's durable code gets that wrapper's per-run hooks: its model requests and tool calls run in the
    same units, under the same names, as the wrapper's. Outside durable code the capability is transparent, as
    PydanticAI 2.68's is: the run is the plain agent's (its `event_stream_handler` gets the events as they come).

    An engine subclass passes its wrapper class and the wrapper's arguments to `__init__`.
    """

    def __init__(self, wrapper_class: type[DurableAgent[Any, Any]], **wrapper_arguments: Any) -> None:
        """Keep the wrapper's arguments; the wrapper is built, and checks them, at the agent's first run."""
        self._wrapper_class = wrapper_class
        self._wrapper_arguments = wrapper_arguments
        self._agent: AbstractAgent[Any, Any] | None = None
        self._durable: DurableAgent[Any, Any] | None = None
        self._bound: DurabilityCapability[AgentDepsT] | None = None  # the copy the agent holds
        self._process_events = (
            ProcessEventStream[Any](wrapper_arguments['event_stream_handler'])
            if wrapper_arguments.get('event_stream_handler') is not None
            else None
        )

    @property
    def durable_agent(self) -> DurableAgent[Any, Any]:
        """The engine's wrapper this capability runs on, built at first use; it lists the units.

        Built at the agent's first run (or when a worker registers the agent), not when the agent is created, so
        that it sees the tools registered on the agent after that (`@agent.tool`).
        """
        if self._bound is not None:
            return self._bound.durable_agent
        if self._durable is None:
            if self._agent is None:
                raise DurableUsageError(
                    f'This {type(self).__name__} is not attached to an agent yet: '
                    f"Agent(..., name='my_agent', capabilities=[{type(self).__name__}(...)])."
                )
            self._durable = self._wrapper_class(self._agent, **self._wrapper_arguments)
        return self._durable

    def get_ordering(self) -> CapabilityOrdering:
        # Innermost: bound after the other capabilities have contributed their toolsets, so it sees them all.
        return CapabilityOrdering(position='innermost')

    def for_agent(self, agent: AbstractAgent[AgentDepsT, Any]) -> AbstractCapability[AgentDepsT]:
        """Bind to `agent`, refusing an agent without a name or with a second durability capability."""
        if self._agent is agent:
            return self
        capability_name = type(self).__name__
        if not (self._wrapper_arguments.get('name') or agent.name):
            raise DurableUsageError(
                f'An agent with {capability_name} needs a name: it names the durable units. '
                f"Agent(..., name='my_agent', capabilities=[{capability_name}(...)]) or {capability_name}(name=...)."
            )
        other = _durability_of(agent)
        if other is not None and other is not self:
            raise DurableUsageError(
                f'This agent already has {type(other).__name__}: an agent takes one durability capability, and '
                f'{capability_name} would journal its runs a second time. Keep one of them.'
            )
        if isinstance(agent, Agent) and not _holds(cast(Agent[Any, Any], agent).root_capability, self):
            raise DurableUsageError(
                f'{capability_name} was given for one run (run(capabilities=...)): give it when the agent is created, '
                f"Agent(..., name='my_agent', capabilities=[{capability_name}(...)]), so that every run of the agent, "
                'and every process that recovers one, has the same durable units.'
            )
        bound = copy.copy(self)
        bound._agent = agent
        bound._durable = None
        bound._bound = None
        self._bound = bound
        _set_durability(agent, self)
        bound._on_bind(self._wrapper_arguments.get('name') or agent.name or '')
        return bound

    def _on_bind(self, agent_name: str) -> None:
        """Hook: the capability was bound to an agent whose units are named after `agent_name`, at its creation."""

    def _durable_in_context(self) -> DurableAgent[Any, Any] | None:
        """The wrapper, if the caller is its durable code, or engine code that a run makes it (`_CapabilityRun`)."""
        if self._agent is None:
            return None
        durable = self.durable_agent
        if durable._in_durable_context() or durable._durable_scope_for_iter() is not None:  # pyright: ignore[reportPrivateUsage]
            return durable
        return None

    def get_default_run_id(self) -> str | None:
        # Replay-stable in durable code, so a recovered run reads its units back under the same run id.
        durable = self._durable_in_context()
        return None if durable is None else durable._durable_run_id()  # pyright: ignore[reportPrivateUsage]

    def get_default_conversation_id(self, run_id: str) -> str | None:
        # As the wrapper's runs: derived from the replay-stable run id, so a replayed or recovered run's messages
        # carry the conversation id they had (a fresh UUID7 each time the workflow code runs, otherwise).
        if self._durable_in_context() is None:
            return None
        return replay_stable_uuid('conversation', run_id)

    async def resolve_model_id(self, ctx: ModelResolutionContext[AgentDepsT], *, model_id: str) -> Model | None:
        """`run(model='key')`: the model registered under that key (`models=`), in every context, as 2.68's."""
        models: Mapping[str, Any] | None = self._wrapper_arguments.get('models')
        if self._agent is not None and models and model_id in models:
            return self.durable_agent._models.get(model_id)  # pyright: ignore[reportPrivateUsage]
        # A model string: PydanticAI infers it (and the worker, from the journaled string). In durable code the engine
        # prepares it first; the model is left to PydanticAI, which closes the client it builds when the run ends.
        durable = self._durable_in_context()
        if durable is not None:
            durable._prepare_model_string(model_id)  # pyright: ignore[reportPrivateUsage]
        return None

    async def for_run(self, ctx: RunContext[AgentDepsT]) -> AbstractCapability[AgentDepsT]:
        """In durable code, the wrapper's per-run hooks; elsewhere, this transparent capability.

        In engine code where a run cannot be durable (a Prefect task), and for a realtime session in engine code,
        the run is refused, as the wrapper refuses its `iter()` and `realtime()` there.
        """
        in_engine_code = self._agent is not None and self.durable_agent._in_engine_code()  # pyright: ignore[reportPrivateUsage]
        if in_engine_code and ctx.realtime:
            raise self.durable_agent._realtime_refusal()  # pyright: ignore[reportPrivateUsage]
        durable = self._durable_in_context()
        if durable is None:
            if in_engine_code:
                raise _not_durable_here(self.durable_agent)
            return self
        if isinstance(ctx.model, DurableModel):
            return AbstractCapability[AgentDepsT]()  # the wrapper's own run (a legacy workflow): it does the work
        if not durable._units_run_in_process:  # pyright: ignore[reportPrivateUsage]
            # The deps ride in the units' inputs, journaled by the engine (Temporal's history): the wrapper's
            # run-entry guard, before the first unit.
            durable._check_deps_round_trip(ctx.deps)  # pyright: ignore[reportPrivateUsage]
        run = _CapabilityRun(durable)
        run.run_model, run.model_key = ctx.model, _run_model_key(durable, ctx)
        engine_capabilities = durable._run_capabilities()  # pyright: ignore[reportPrivateUsage]
        run.companions = tuple(engine_capabilities)
        if not engine_capabilities:
            return run
        return CombinedCapability([run, *engine_capabilities])  # the engine's own, as the wrapper adds to its runs

    @property
    def has_wrap_run_event_stream(self) -> bool:
        return self._process_events is not None

    async def wrap_run_event_stream(
        self, ctx: RunContext[AgentDepsT], *, stream: AsyncIterable[AgentStreamEvent]
    ) -> AsyncIterable[AgentStreamEvent]:
        """Outside durable code, hand the events to the capability's handler as they come."""
        if self._process_events is not None:
            stream = self._process_events.wrap_run_event_stream(ctx, stream=stream)
        async for event in stream:
            yield event


def _holds(root: AbstractCapability[Any], capability: AbstractCapability[Any]) -> bool:
    """Whether `capability` is in the capability tree `root` (an agent's own, as opposed to one run's)."""
    found: list[AbstractCapability[Any]] = []
    root.apply(lambda visited: found.append(visited) if visited is capability else None)
    return bool(found)


_DURABILITY_OF: dict[int, tuple[weakref.ref[AbstractAgent[Any, Any]], DurabilityCapability[Any]]] = {}
"""The durability capability each live agent was bound to, by the agent's id (an `Agent` is not hashable), so that
a second one, or a wrapper around it, is refused."""


def _durability_of(agent: AbstractAgent[Any, Any]) -> DurabilityCapability[Any] | None:
    entry = _DURABILITY_OF.get(id(agent))
    return entry[1] if entry is not None and entry[0]() is agent else None


def _set_durability(agent: AbstractAgent[Any, Any], capability: DurabilityCapability[Any]) -> None:
    key = id(agent)
    _DURABILITY_OF[key] = (weakref.ref(agent, lambda _: _DURABILITY_OF.pop(key, None)), capability)


def _not_durable_here(durable: DurableAgent[Any, Any]) -> NotInDurableUnitError:
    """The refusal of a capability agent's run in engine code that cannot make it durable (a Prefect task)."""
    container = durable.container_noun
    return NotInDurableUnitError(
        f'A run of an agent with {durable._config_call("...")} inside a task of a {durable.engine_name} '  # pyright: ignore[reportPrivateUsage]
        f'{container} would not be durable: its model requests and tool calls would not be journaled as units of '
        f"the {container}. Use run() or iter() in the {container}'s own code, or call a {container} that runs the "
        'agent from the task.'
    )


def _capabilities_given_for_the_run(
    ctx: RunContext[Any], agent: AbstractAgent[Any, Any], *, own: Sequence[AbstractCapability[Any]]
) -> list[AbstractCapability[Any]]:
    """The capabilities of this run that `agent` was not created with: given to `run()` or `iter()` for it only.

    PydanticAI hands a capability no list of the run's own ones, so they are told apart in the run's capability tree
    (`ctx.root_capability`) from what the run's agent-level ones became (`for_run` may return per-run copies) and
    from what PydanticAI adds to every run. Counted as the agent's: a capability of its tree, or one of the type of
    one (a per-run copy); the per-run resolution of one of its capability functions (a wrapper around the function's
    stable toolset); `own`, the durability's per-run capabilities; an `Instrumentation` (added to an instrumented
    run; 2.68's durability takes one at run time too) and a `Hooks` (holds `@agent.on_event` listeners); a type
    PydanticAI does not export (added by PydanticAI itself, such as the loader of deferred capabilities); and a
    `SetToolMetadata`, which `RunToolMetadataGuard` judges by its keys.
    """
    root = ctx.root_capability
    if root is None or not isinstance(agent, Agent):
        return []
    built: list[AbstractCapability[Any]] = []
    agent.root_capability.apply(built.append)
    built_ids = {id(capability) for capability in built}
    built_types = {type(capability) for capability in built}
    function_toolsets = [capability.get_toolset() for capability in built if isinstance(capability, DynamicCapability)]
    own_ids = {id(capability) for capability in own}
    given: list[AbstractCapability[Any]] = []

    def visit(capability: AbstractCapability[Any]) -> None:
        if id(capability) in built_ids or id(capability) in own_ids:
            return
        if isinstance(capability, CombinedCapability):
            for child in capability.capabilities:
                visit(child)
            return
        if type(capability) in built_types or isinstance(capability, Instrumentation | Hooks | SetToolMetadata):
            return
        if isinstance(capability, WrapperCapability):
            toolset = capability.get_toolset()
            if isinstance(toolset, DynamicToolset):  # a capability function's resolution: the agent's, or given
                if not any(toolset is function_toolset for function_toolset in function_toolsets):
                    given.append(capability)
                return
        if not _added_by_pydantic_ai(type(capability)):
            given.append(capability)

    visit(root)
    return given


def _added_by_pydantic_ai(capability_type: type[AbstractCapability[Any]]) -> bool:
    """Whether PydanticAI defines the type but does not export it: no user gives one, PydanticAI adds it to runs."""
    if not capability_type.__module__.startswith('pydantic_ai.'):
        return False
    capabilities = sys.modules['pydantic_ai.capabilities']
    return getattr(capabilities, capability_type.__name__, None) is not capability_type


def _run_model_key(durable: DurableAgent[Any, Any], ctx: RunContext[Any]) -> str | None:
    """How a capability run named its model, as the wrapper journals a run's `model=` (`UnitCall.model_key`).

    A registered key or a model string as the run gave it, `None` for the agent's own model; a model instance that
    was not registered is refused, as by the wrapper: a worker or a recovery could not rebuild it.
    """
    model_id = ctx.model_id
    agent_model = durable.wrapped.model
    if model_id is not None:
        return None if model_id in (DEFAULT_MODEL_KEY, agent_model) else model_id
    model = ctx.model
    if not isinstance(model, Model) or model is agent_model:
        return None
    return durable._model_key(cast(Model, model))  # pyright: ignore[reportPrivateUsage]


class _CapabilityRun(_DurabilityWithRequestContext):
    """One run of a capability agent in durable code: the wrapper's durable model, toolsets, events and tool order.

    Where the engine's durable code is the caller's code only while a run lasts (Prefect: any flow), the run enters
    the wrapper's `_durable_scope_for_iter()`, as the wrapper's `iter()` does there.
    """

    def __init__(self, agent: DurableAgent[Any, Any]) -> None:
        super().__init__(agent)
        self._handler = agent._event_stream_handler  # pyright: ignore[reportPrivateUsage]

    run_model: object = None
    """The run's model, as `for_run` saw it."""

    companions: tuple[AbstractCapability[Any], ...] = ()
    """The engine's own capabilities that `for_run` added to the run next to this one (`_run_capabilities`)."""

    async def before_run(self, ctx: RunContext[Any]) -> None:
        """Refuse capabilities given for this run only (`run(capabilities=...)`), as the wrapper refuses them."""
        given = _capabilities_given_for_the_run(ctx, self._agent.wrapped, own=(self, *self.companions))
        if given:
            agent = self._agent
            names = ', '.join(sorted({type(capability).__name__ for capability in given}))
            first = type(given[0]).__name__
            raise DurableUsageError(
                f'capabilities= given to run() or iter() inside a {agent.engine_name} {agent.container_noun} are not '
                f'supported ({names}): the durable units of an agent with '
                f'{agent._config_call("...")}, and what its runs do around them, come from the capabilities it was '  # pyright: ignore[reportPrivateUsage]
                f'created with, which every process that runs or recovers it has too. Add capabilities to the `Agent` '
                f'itself: Agent(..., capabilities=[{first}(...), {agent.wrapper_name}(...)]).'
            )

    def get_wrapper_toolset(self, toolset: AbstractToolset[Any]) -> AbstractToolset[Any] | None:
        if not self._agent._units_run_in_process:  # pyright: ignore[reportPrivateUsage]
            # Where units run in process (DBOS, Prefect) a toolset the workflow code passes to run() becomes units
            # under its id, and the same code passes it again on recovery (2.68's capability accepts one there).
            toolset.apply(self._refuse_unregistered_leaf)
        return super().get_wrapper_toolset(toolset)

    def _refuse_unregistered_leaf(self, leaf: AbstractToolset[Any]) -> None:
        """Refuse a toolset the agent was not built with, as the wrapper does.

        Such a toolset (`run(toolsets=...)`, `override(toolsets=...)`) has units that no worker registered, so none
        would run them.
        """
        agent = self._agent
        if isinstance(leaf, DurableToolset | ExternalToolset):
            return
        if any(leaf is known for known in agent._toolsets_without_id):  # pyright: ignore[reportPrivateUsage]
            return
        try:
            toolset_id: str | None = agent._describe_leaf(leaf).toolset_id  # pyright: ignore[reportPrivateUsage]
        except DurableUsageError:
            toolset_id = None  # no id it could be registered under
        if toolset_id not in {known.toolset_id for known in agent._toolsets}:  # pyright: ignore[reportPrivateUsage]
            agent._check_run_arguments(None, [leaf], {})  # pyright: ignore[reportPrivateUsage]

    model_key: str | None = None
    """How the run named `run_model` (`UnitCall.model_key`): the worker of an engine that runs units elsewhere
    rebuilds the model from it."""

    def get_wrapper_model(self, model: Model) -> Model | None:
        # Also called inside a unit, where the model is called directly.
        if isinstance(model, DurableModel) or not self._agent._in_durable_context():  # pyright: ignore[reportPrivateUsage]
            return None
        # A model another capability moved the request to is named as the wrapper names a run's `model=`.
        key = self.model_key if model is self.run_model else self._agent._model_key(model)  # pyright: ignore[reportPrivateUsage]
        # The workflow-side stream replays the model events, as 2.68's does: a handler passed to `run()` gets them
        # there (the capability's own handler got them live in the unit, and its relay skips them).
        return self._agent._durable_model(model, key, self._handler, replay_events=True)  # pyright: ignore[reportPrivateUsage]

    async def wrap_run(self, ctx: RunContext[Any], *, handler: Any) -> Any:
        agent = self._agent
        scope = None if agent._in_durable_context() else agent._durable_scope_for_iter()  # pyright: ignore[reportPrivateUsage]
        try:
            async with scope or contextlib.nullcontext():
                with Agent.parallel_tool_call_execution_mode(agent._parallel_execution_mode):  # pyright: ignore[reportPrivateUsage]
                    return await handler()
        finally:
            agent._after_run(ctx.run_id or '')  # pyright: ignore[reportPrivateUsage]

    @property
    def has_wrap_run_event_stream(self) -> bool:
        return self._handler is not None

    async def wrap_run_event_stream(
        self, ctx: RunContext[Any], *, stream: AsyncIterable[AgentStreamEvent]
    ) -> AsyncIterable[AgentStreamEvent]:
        """Deliver each event that did not come from the model from a unit of its own, as the wrapper does."""
        relay = self._agent.event_stream_handler  # in the run's durable code: the relay of event units
        async for event in stream:
            if relay is not None:
                await relay(ctx, _one_event(event))
            yield event


async def _one_event(event: AgentStreamEvent) -> AsyncIterator[AgentStreamEvent]:
    yield event


def is_mcp_toolset(toolset: AbstractToolset[Any]) -> bool:
    """Whether `toolset` is an `MCPToolset`, without importing the MCP client when nobody uses it."""
    module = sys.modules.get('pydantic_ai.mcp')
    return module is not None and isinstance(toolset, module.MCPToolset)


def _toolset_id_fix(leaf: AbstractToolset[Any]) -> str:
    if isinstance(leaf, DynamicToolset):
        return "give the toolset an id: @agent.toolset(id='my_toolset')"
    return f"give the toolset an id: {type(leaf).__name__}(..., id='my_toolset')"


def _toolset_function_qualname(toolset: DynamicToolset[Any]) -> str:
    """The qualified name a dynamic toolset's id is derived from: its function's, or its capability function's.

    A `DynamicCapability` contributes a toolset whose function is its own method, the same for every such
    capability: the user's `capability_func` tells them apart.
    """
    func: Any = toolset.toolset_func
    owner = getattr(func, '__self__', None)
    if isinstance(owner, DynamicCapability):
        func = cast(Any, owner).capability_func
    while isinstance(func, functools.partial):
        func = cast(Any, func).func
    qualname = getattr(func, '__qualname__', None)
    return qualname if isinstance(qualname, str) else type(func).__qualname__


def _leaf_origin(leaf: ToolsetLeaf) -> str:
    if leaf.derived_from is not None:
        return f'the dynamic toolset of the function {leaf.derived_from!r}'
    return f'a {type(leaf.toolset).__name__} with id={leaf.toolset_id!r}'


def _function(tool: Tool[Any]) -> object:
    return cast(object, tool.function)  # pyright: ignore[reportUnknownMemberType]


def _same_dynamic(toolset: AbstractToolset[Any], other: AbstractToolset[Any]) -> bool:
    """Whether two toolsets are one dynamic toolset: the agent builds a capability's anew each time it lists them."""
    return isinstance(toolset, DynamicToolset) and toolset == other


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
