"""`PrefectDurability`: `PrefectAgent`'s capability form, `Agent(..., capabilities=[PrefectDurability(...)])`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Generic, cast

from durable_core.engine import (
    DurabilityCapability,
    ParallelExecutionMode,
    RunToolMetadataGuard,
    effective_metadata,
    set_tool_metadata,
    stable_run_id,
)
from prefect.context import FlowRunContext
from pydantic_ai.agent import AbstractAgent, EventStreamHandler
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models import Model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import FunctionToolset

from ._agent import PrefectAgent
from ._config import TaskConfigLike
from ._scope import CURRENT_SCOPE, next_in_attempt

__all__ = ['PrefectDurability']


class _CapabilityPrefectAgent(PrefectAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """The `PrefectAgent` a `PrefectDurability` runs on, in the user's flow: its own flow `<agent>.run` is unused."""

    wrapper_name = 'PrefectDurability'
    _capability_form = True
    _run_is_unit = False

    _scope_holds_one_run = True

    def __init__(self, wrapped: AbstractAgent[AgentDepsT, OutputDataT], **arguments: Any) -> None:
        # 2.68's per-tool config: `metadata={'prefect': TaskConfig(...)}`, or `False` to run the tool in flow code.
        by_name = dict(_metadata_task_configs(wrapped))
        by_name.update(arguments.pop('tool_task_config_by_name', None) or {})
        super().__init__(wrapped, tool_task_config_by_name=by_name, **arguments)

    def _run_capabilities(self) -> Sequence[AbstractCapability[Any]]:
        return (*super()._run_capabilities(), RunToolMetadataGuard(self.wrapped, 'prefect'))

    def _durable_run_id(self) -> str:
        scope = CURRENT_SCOPE.get()
        if scope is not None and scope.agent is self:
            return super()._durable_run_id()
        # Asked when a run starts in the user's flow code, before the run enters its flow-code scope, and where it
        # cannot await the flow run's stable identity (its units' cache scope, `_scope_holds_one_run`): which run of
        # this agent it is in this attempt of the flow run.
        context = FlowRunContext.get()
        assert context is not None
        assert context.flow_run is not None
        key = f'durable_prefect.run:{self.name}'
        return stable_run_id(str(context.flow_run.id), key, str(next_in_attempt(context, key)))


def _metadata_task_configs(agent: AbstractAgent[Any, Any]) -> Iterator[tuple[str, TaskConfigLike | None]]:
    """The task configs the agent's function tools give in their metadata (or a `SetToolMetadata` does), by name."""
    set_metadata = set_tool_metadata(agent, 'prefect')
    leaves: list[FunctionToolset[Any]] = []
    for toolset in agent.toolsets:
        toolset.apply(lambda leaf: leaves.append(leaf) if isinstance(leaf, FunctionToolset) else None)
    for leaf in leaves:
        for name, tool in leaf.tools.items():
            config = effective_metadata(tool.tool_def, set_metadata).get('prefect')
            if config is False:
                yield name, None
            elif config is not None:
                yield name, cast(TaskConfigLike, config)


class PrefectDurability(DurabilityCapability[AgentDepsT], Generic[AgentDepsT]):
    """The capability form of `PrefectAgent`: `Agent(..., name='x', capabilities=[PrefectDurability(...)])`.

    As PydanticAI 2.68's: call `agent.run()` (or `iter()`) in your own `@flow` and that run is durable, its model
    requests and tool calls tasks of your flow run, so that a retried or rerun flow loads their results instead of
    running them again; outside a flow the agent runs as it would without the capability. It runs on a
    `PrefectAgent` built around the agent at its first run, so its tasks are that wrapper's, under the same names
    (`<agent>.model_request`, ...; `durable_agent.durable_unit_names()` lists them) and with the same configs and
    cache keys.
    """

    def __init__(
        self,
        *,
        models: Mapping[str, Model | str] | None = None,
        event_stream_handler: EventStreamHandler[AgentDepsT] | None = None,
        name: str | None = None,
        event_stream_handler_task_config: TaskConfigLike | None = None,
        model_task_config: TaskConfigLike | None = None,
        mcp_task_config: TaskConfigLike | None = None,
        tool_task_config: TaskConfigLike | None = None,
        tool_task_config_by_name: Mapping[str, TaskConfigLike | None] | None = None,
        parallel_execution_mode: ParallelExecutionMode = 'parallel_ordered_events',
    ) -> None:
        """Keep the arguments of the `PrefectAgent` the capability runs on; it checks them at the agent's first run.

        Args:
            models: Models that `run(model='key')` may select, registered by key.
            event_stream_handler: Receives the events of a durable run: model events live inside the model task,
                each other event from a task of its own; outside a flow, every event as it comes.
            name: The name of the tasks, if not the agent's own.
            event_stream_handler_task_config: Task options of event deliveries (a `TaskConfig`, or a `StepPolicy`).
            model_task_config: Task options of model requests.
            mcp_task_config: Task options of MCP and dynamic-toolset calls.
            tool_task_config: Task options of function-tool calls (every function tool is a task).
            tool_task_config_by_name: Task options per tool name; `None` runs that tool in flow code (ours). As in
                2.68, a tool's metadata can also give them: `metadata={'prefect': TaskConfig(...)}`, or `False` to
                run it in flow code, or a `SetToolMetadata(tools=[...], prefect=...)` capability (selecting by name
                or metadata; a selector function, or one given for a single run, is refused: the tasks are fixed
                before the runs); this argument wins over the metadata.
            parallel_execution_mode: `'parallel_ordered_events'` or `'sequential'`, as `PrefectAgent`'s (ours).
        """
        super().__init__(
            _CapabilityPrefectAgent,
            name=name,
            event_stream_handler=event_stream_handler,
            models=models,
            model_task_config=model_task_config,
            tool_task_config=tool_task_config,
            tool_task_config_by_name=tool_task_config_by_name,
            mcp_task_config=mcp_task_config,
            event_stream_handler_task_config=event_stream_handler_task_config,
            parallel_execution_mode=parallel_execution_mode,
        )
