"""`DBOSDurability`: the capability form of `DBOSAgent`, for `Agent(..., capabilities=[DBOSDurability(...)])`."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import warnings
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Generic, cast

from dbos import DBOS, SetWorkflowTimeout
from durable_core import DurableUsageError, deserialize_run_context, serialize_run_context
from durable_core.engine import (
    DurabilityCapability,
    ParallelExecutionMode,
    RunInputs,
    RunToolMetadataGuard,
    ToolCallInputs,
    UnitCall,
    UnitId,
    UnitKind,
    execute_tool_call,
)
from pydantic_ai import RunContext
from pydantic_ai.agent import AbstractAgent, AgentRunResult, EventStreamHandler
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models import Model, infer_model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT, ToolDefinition

from ._agent import DBOSAgent
from ._compat import dbos_is_launched
from ._config import StepConfigLike
from ._tool_metadata import DBOS_METADATA_KEY, child_workflow_selections
from ._warnings import CreatedAfterLaunchWarning

__all__ = ['DBOSDurability']

_ChildWorkflow = Callable[[str], Coroutine[Any, Any, str]]


@dataclasses.dataclass(frozen=True)
class _ChildWorkflowTool:
    """The unit config of a function tool whose calls run as DBOS child workflows (its `ChildWorkflowConfig`)."""

    workflow: _ChildWorkflow = dataclasses.field(compare=False)
    """The registered workflow of the tool's toolset."""
    workflow_timeout_sec: float | None
    """Passed to DBOS's `SetWorkflowTimeout` as the child starts."""


_CHILD_WORKFLOWS: dict[str, dict[str, _ChildWorkflow]] = {}
"""The child workflows registered when each capability agent was created, by agent name and toolset id."""


class _CapabilityDBOSAgent(DBOSAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """The `DBOSAgent` a `DBOSDurability` runs on: the user's workflow runs the agent, so it registers none.

    Its tools that select a child workflow (`metadata={'dbos': {'child_workflow': ChildWorkflowConfig(...)}}`, or a
    `SetToolMetadata` capability) are units whose config is a `_ChildWorkflowTool`: each call runs as a child workflow
    of the run's workflow, registered when the agent was created.
    """

    wrapper_name = 'DBOSDurability'
    _capability_form = True
    _run_is_unit = False

    def __init__(self, wrapped: AbstractAgent[AgentDepsT, OutputDataT], **arguments: Any) -> None:
        super().__init__(wrapped, **arguments)
        # Read again now, at the first run: tools registered after `Agent(...)` are seen, and refused if they select a
        # child workflow whose toolset registered none when the agent was created (DBOS registers before launch).
        selections = child_workflow_selections(wrapped, all_tools=True)
        registered = _CHILD_WORKFLOWS.get(self.name, {})
        configured = self.unit_configs.tool_by_name
        children: dict[tuple[str, str], Any] = {}
        for selection in selections:
            where = f'The tool {selection.tool_name!r} selects a DBOS child workflow'
            if selection.toolset_id not in registered:
                raise DurableUsageError(
                    f'{where}, but its toolset {selection.toolset_id!r} registered no child workflow when the agent '
                    'was created, and DBOS registers workflows before `DBOS.launch()`. Select it before the agent is '
                    "created: in the tool's metadata (for the agent's own tools, `Agent(tools=[Tool(..., "
                    'metadata=...)])` rather than a later `@agent.tool`), or with a `SetToolMetadata` capability.'
                )
            if selection.tool_name in configured:
                raise DurableUsageError(
                    f'{where} and `tool_step_config_by_name` configures it too: a call is a child workflow or a step, '
                    'not both. Drop one of the two.'
                )
            timeout = selection.config.get('workflow_timeout_sec')
            children[(selection.toolset_id, selection.tool_name)] = _ChildWorkflowTool(
                registered[selection.toolset_id], timeout
            )
        if children:
            by_toolset_and_name = {**self.unit_configs.tool_by_toolset_and_name, **children}
            self.unit_configs = dataclasses.replace(self.unit_configs, tool_by_toolset_and_name=by_toolset_and_name)
        self._child_tool_names = frozenset(tool for _, tool in children)

    def _register_workflow(self) -> None:
        return None

    def _run_capabilities(self) -> Sequence[AbstractCapability[Any]]:
        guard = RunToolMetadataGuard(self.wrapped, DBOS_METADATA_KEY)
        return (guard, _ChildWorkflowsAlone(self._child_tool_names)) if self._child_tool_names else (guard,)

    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        config = call.config
        if not isinstance(config, _ChildWorkflowTool):
            return await super()._run_unit(call, execute)
        inputs = call.inputs
        assert isinstance(inputs, ToolCallInputs)
        ctx = inputs.run_context
        # The step id reserved for the call in a step of parallel calls goes unused: the child workflow runs alone.
        self._reservations.pop((DBOS.workflow_id or '', ctx.run_id or '', call.tool_call_id or ''), None)
        payload = json.dumps(
            {
                'toolset': inputs.toolset_id,
                'tool': inputs.tool_name,
                'args': inputs.tool_args,
                'ctx': serialize_run_context(ctx, deps_type=self.wrapped.deps_type).decode(),
                'model': call.model_key,
            }
        )
        timeout = config.workflow_timeout_sec
        # Called in workflow code, the workflow is a child: DBOS journals its start and result in the run's workflow,
        # so a recovered run waits for the child, or reads its result, and never starts it again.
        with SetWorkflowTimeout(timeout) if timeout is not None else contextlib.nullcontext():
            return await config.workflow(payload)


class _ChildWorkflowsAlone(AbstractCapability[Any]):
    """Runs each call of a child-workflow tool alone (`sequential`) in a step of parallel tool calls.

    DBOS numbers a child workflow in the parent's journal as it starts: two started at once could start in another
    order on recovery and be handed each other's results.
    """

    def __init__(self, tool_names: frozenset[str]) -> None:
        self._tool_names = tool_names

    async def prepare_tools(self, ctx: RunContext[Any], tool_defs: list[ToolDefinition]) -> list[ToolDefinition]:
        if DBOS.workflow_id is None or DBOS.step_id is not None:
            return tool_defs
        return [
            dataclasses.replace(tool_def, sequential=True) if tool_def.name in self._tool_names else tool_def
            for tool_def in tool_defs
        ]


class _RunWorkflowHost:
    """Stands in for the `DBOSAgent` in the body of its workflow `<agent>.run`, registered by the capability.

    The body is `DBOSAgent`'s own (its source is part of DBOS's application version); the agent it runs is the
    capability's wrapper, built at the first run, after the agent's tools are registered.
    """

    def __init__(self, capability: DBOSDurability[Any], name: str) -> None:
        self._capability = capability
        self.name = name

    def unit(self, kind: UnitKind) -> UnitId:
        return UnitId(self.name, kind)

    async def run_inputs(self, inputs: RunInputs) -> AgentRunResult[Any]:
        return await self._capability.durable_agent.run_inputs(inputs)

    def decode_inputs(self, data: str | bytes) -> RunInputs:
        return self._capability.durable_agent.decode_inputs(data)

    def encode_result(self, result: AgentRunResult[Any]) -> str:
        return self._capability.durable_agent.encode_result(result)


class DBOSDurability(DurabilityCapability[AgentDepsT], Generic[AgentDepsT]):
    """The capability form of `DBOSAgent`: `Agent(..., name='x', capabilities=[DBOSDurability(...)])`.

    As PydanticAI 2.68's: call `agent.run()` (or `iter()`) in your own `@DBOS.workflow` and that run is durable, its
    model requests and journaled tool calls steps of your workflow; outside workflow code the agent runs as it would
    without the capability. It runs on a `DBOSAgent` built around the agent when the agent is created, so its steps
    are that wrapper's, under the same names (`<agent>.model_request`, ...; `durable_agent.durable_unit_names()`
    lists them) and with the same configs; a deploy can move a running system between the two forms.

    As 2.68's, an async function tool whose metadata selects a child workflow,
    `Tool(..., metadata={'dbos': {'child_workflow': ChildWorkflowConfig(workflow_timeout_sec=60)}})` or a
    `SetToolMetadata(tools=['my_tool'], dbos={'child_workflow': {}})` capability, runs each call as a child workflow
    of the run's workflow, `<agent>.child_workflow.<toolset id>` (its own workflow id; the timeout through DBOS's
    `SetWorkflowTimeout`): a recovered run waits for the child, or reads its result, and never runs it again. The
    workflow is registered when the agent is created, before `DBOS.launch()`, so select the tools by then (not with a
    later `@agent.tool`, and by name or metadata, not with a selector function); such a call runs alone in a step of
    parallel tool calls, so that DBOS numbers the children in the same order on recovery. `DBOSAgent` ignores the
    metadata, as 2.68's does.
    """

    def __init__(
        self,
        *,
        models: Mapping[str, Model | str] | None = None,
        event_stream_handler: EventStreamHandler[AgentDepsT] | None = None,
        name: str | None = None,
        model_step_config: StepConfigLike | None = None,
        event_stream_handler_step_config: StepConfigLike | None = None,
        mcp_step_config: StepConfigLike | None = None,
        tool_step_config: StepConfigLike | None = None,
        tool_step_config_by_name: Mapping[str, StepConfigLike | None] | None = None,
        parallel_execution_mode: ParallelExecutionMode = 'parallel_ordered_events',
        register_legacy_workflows: bool = False,
    ) -> None:
        """Keep the arguments of the `DBOSAgent` the capability runs on; they are checked when an agent takes it.

        Args:
            models: Models that `run(model='key')` may select, registered by key.
            event_stream_handler: Receives the events of a durable run: model events live inside the model step,
                each other event from a step of its own; outside workflow code, every event as it comes.
            name: The name of the steps, if not the agent's own.
            model_step_config: Retries and timeout of model-request steps (a `StepConfig`, or a `StepPolicy`).
            event_stream_handler_step_config: Retries of event-delivery steps.
            mcp_step_config: Retries and timeout of MCP and other toolset steps.
            tool_step_config: Make every function tool a step with this config (ours; 2.68 has no tool steps).
            tool_step_config_by_name: Per tool name: a config makes that tool a step, `None` keeps it in workflow
                code (ours).
            parallel_execution_mode: `'parallel_ordered_events'` or `'sequential'`, as `DBOSAgent`'s.
            register_legacy_workflows: Also register `DBOSAgent`'s workflow `<agent>.run`, so that runs a
                `DBOSAgent` started before a deploy that moved to this capability recover after it. Create the agent
                before `DBOS.launch()`, and pin DBOS's `application_version` across the deploy (the registered
                workflows make up DBOS's default one).
        """
        self._register_legacy_workflows = register_legacy_workflows
        self._models = dict(models or {})
        super().__init__(
            _CapabilityDBOSAgent,
            name=name,
            event_stream_handler=event_stream_handler,
            models=models,
            model_step_config=model_step_config,
            mcp_step_config=mcp_step_config,
            tool_step_config=tool_step_config,
            tool_step_config_by_name=tool_step_config_by_name,
            event_step_config=event_stream_handler_step_config,
            parallel_execution_mode=parallel_execution_mode,
        )

    def _on_bind(self, agent_name: str) -> None:
        # DBOS recovers pending workflows at launch: workflows are registered now, when the agent is created.
        if self._register_legacy_workflows:
            DBOSAgent._register_workflow(cast(Any, _RunWorkflowHost(self, agent_name)))  # pyright: ignore[reportPrivateUsage]
        agent = self._agent
        assert agent is not None
        toolset_ids = sorted({selection.toolset_id for selection in child_workflow_selections(agent, all_tools=False)})
        if toolset_ids and dbos_is_launched():
            warnings.warn(
                f'The agent {agent_name!r} (DBOSDurability) was created after DBOS.launch(), with tools that run as '
                'child workflows: DBOS may not recover them after a crash. Create the agent before DBOS.launch().',
                CreatedAfterLaunchWarning,
                stacklevel=5,
            )
        _CHILD_WORKFLOWS[agent_name] = {
            toolset_id: self._register_child_workflow(agent_name, toolset_id) for toolset_id in toolset_ids
        }

    def _register_child_workflow(self, agent_name: str, toolset_id: str) -> _ChildWorkflow:
        async def child_workflow(call: str) -> str:
            return await self._call_tool(call)

        # Only toolsets with a child-workflow tool register one: DBOS hashes the registered workflows into its
        # default application version. Its source is hashed too: keep `child_workflow` as it is.
        return DBOS.workflow(name=f'{agent_name}.child_workflow.{toolset_id}')(child_workflow)

    async def _call_tool(self, call: str) -> str:
        """The body of a child workflow: call one tool, in the child's workflow code, and return its outcome's JSON."""
        data: dict[str, Any] = json.loads(call)
        durable = self.durable_agent
        model_key: str | None = data['model']
        model = durable.wrapped.model if model_key is None else self._models.get(model_key, model_key)
        if model is None:
            raise DurableUsageError(f'The agent {durable.name!r} has no model: Agent(model=...).')
        ctx = deserialize_run_context(data['ctx'], deps_type=durable.wrapped.deps_type, model=infer_model(model))
        toolset = durable.toolset_leaf(data['toolset']).toolset
        async with toolset:
            return await execute_tool_call(toolset, data['tool'], data['args'], ctx)
