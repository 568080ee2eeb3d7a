"""`TemporalDurability`: `TemporalAgent`'s capability form, `Agent(..., capabilities=[TemporalDurability()])`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Generic, cast

from durable_core import DurableUsageError, StepPolicy
from durable_core.engine import (
    DurabilityCapability,
    ParallelExecutionMode,
    RunToolMetadataGuard,
    UnitCall,
    effective_metadata,
    set_tool_metadata,
)
from pydantic_ai.agent import AbstractAgent, EventStreamHandler
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelQuotaExceededError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
)
from pydantic_ai.models import Model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset
from temporalio import workflow

from ._agent import TemporalAgent
from ._config import TEMPORAL_METADATA_KEY, ActivityConfigLike, LocalActivity, ToolActivityConfig, resolve_config
from ._continue_as_new import ContinueAsNewHandler
from ._dropin import TemporalRunContext
from ._registry import is_registered

__all__ = ['AgentNotRegisteredError', 'TemporalDurability', 'temporal_agent_of']

DEFAULT_NON_RETRYABLE_MODEL_ERRORS: tuple[type[ModelAPIError], ...] = (
    ModelRequestRejectedError,
    ModelQuotaExceededError,
    ModelRequestTimeout,
)
"""2.68's default: the model errors another attempt cannot fix (a rejected request, an exhausted quota, a request
out of its deadline)."""


class AgentNotRegisteredError(RuntimeError):
    """A capability agent ran in a workflow whose worker did not register its activities.

    Not a `UserError`: it fails the workflow *task*, not the workflow, so that the workflow goes on once a worker
    that registers the agent picks it up (after the deploy that fixes the registration).
    """


class _CapabilityTemporalAgent(TemporalAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """The `TemporalAgent` a `TemporalDurability` runs on: its activities, names and configs are the wrapper's.

    Built at the agent's first run, or when a worker registers the agent, so that the tools registered with
    `@agent.tool` after `Agent(...)` are seen, with their `metadata={'temporal': ...}` configs.
    """

    wrapper_name = 'TemporalDurability'
    _capability_form = True

    def __init__(
        self,
        wrapped: AbstractAgent[AgentDepsT, OutputDataT],
        *,
        deps_type: type[Any] | None,
        event_stream_handler_activity_config: ActivityConfigLike | None,
        non_retryable_model_errors: Sequence[type[BaseException]],
        **arguments: Any,
    ) -> None:
        if deps_type is not None and deps_type is not wrapped.deps_type:
            raise DurableUsageError(
                f'TemporalDurability(deps_type={getattr(deps_type, "__qualname__", deps_type)}) differs from the '
                f"agent's deps_type {getattr(wrapped.deps_type, '__qualname__', wrapped.deps_type)}: the deps are "
                "journaled through the agent's. Give it to the agent instead, Agent(..., deps_type=...), and drop "
                "TemporalDurability's."
            )
        super().__init__(wrapped, tool_activity_config=_tool_configs_from_metadata(wrapped), **arguments)
        if event_stream_handler_activity_config is not None:
            self.unit_configs = dataclasses.replace(
                self.unit_configs,
                event=resolve_config(
                    self._base_config,
                    event_stream_handler_activity_config,
                    where='event_stream_handler_activity_config',
                ),
            )
        self._non_retryable = tuple(non_retryable_model_errors)

    def _non_retryable_model_errors(self) -> tuple[type[BaseException], ...]:
        return self._non_retryable

    def _run_capabilities(self) -> Sequence[AbstractCapability[Any]]:
        return (*super()._run_capabilities(), RunToolMetadataGuard(self.wrapped, TEMPORAL_METADATA_KEY))

    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        # Checked where this worker would schedule a new activity: replaying history (a `Replayer`, with or without
        # our plugin, or a worker catching up on a run) schedules none, so it needs no registration.
        if not workflow.unsafe.is_replaying():
            _require_registered(self)
        return await super()._run_unit(call, execute)


class TemporalDurability(DurabilityCapability[AgentDepsT], Generic[AgentDepsT]):
    """The capability form of `TemporalAgent`: `Agent(..., name='x', capabilities=[TemporalDurability(...)])`.

    As PydanticAI 2.68's: call `agent.run()` (or `iter()`) in your workflow and that run is durable, each model
    request, tool call and event delivery an activity; outside a workflow the agent runs as it would without the
    capability. It runs on a `TemporalAgent` built around the agent, so its activities are that wrapper's, under the
    same names (`<agent>.model_request`, `<agent>.tool_call.agent.<tool>`, ...; `durable_agent.durable_unit_names()`
    lists them) and with the same configs: a deploy can move a running system between the two forms.

    List the agent in the workflow's `__pydantic_ai_agents__` (or attach `AgentPlugin(agent)` to the worker): a run
    in a workflow whose worker did not register it fails the workflow task at once, naming that fix.

    A tool's own activity config is its `metadata={'temporal': ActivityConfig(...)}` (or a `StepPolicy`, or a
    `LocalActivity`); `False` runs an async tool in the workflow, as 2.68's. A `SetToolMetadata(tools=[...],
    temporal=...)` capability sets it too, selecting tools by name or metadata; one with a selector function, which
    only a run can answer, is refused when the worker registers the agent, and one given for a single run as it
    starts: the activities are fixed before.
    """

    def __init__(
        self,
        *,
        models: Mapping[str, Model | str] | None = None,
        event_stream_handler: EventStreamHandler[AgentDepsT] | None = None,
        name: str | None = None,
        deps_type: type[AgentDepsT] | None = None,
        activity_config: ActivityConfigLike | None = None,
        model_activity_config: ActivityConfigLike | None = None,
        event_stream_handler_activity_config: ActivityConfigLike | None = None,
        toolset_activity_config: Mapping[str, ActivityConfigLike] | None = None,
        non_retryable_model_errors: Sequence[type[ModelAPIError]] = DEFAULT_NON_RETRYABLE_MODEL_ERRORS,
        parallel_execution_mode: ParallelExecutionMode = 'parallel_ordered_events',
        run_context_type: type[TemporalRunContext[Any]] = TemporalRunContext,
        continue_as_new: ContinueAsNewHandler[AgentDepsT] | None = None,
    ) -> None:
        """Keep the arguments of the `TemporalAgent` the capability runs on; it checks them at the first use.

        Args:
            models: Models that `run(model='key')` may select, registered by key; a model instance passed to `run`
                must be one of them. Model strings such as `'openai:gpt-6.1-sol'` need no registration.
            event_stream_handler: Receives the run's events: in a workflow, a model request's events live inside
                its activity and each other event from an activity of its own; outside a workflow, every event as
                it comes.
            name: The name of the activities, if not the agent's own.
            deps_type: The deps type, if given: it must be the agent's own (the deps are journaled through it).
            activity_config: The default config of every activity (a Temporal `ActivityConfig`, a `StepPolicy` or
                a `LocalActivity`); by default, `TemporalAgent`'s: one attempt may take 5 minutes, 10 attempts.
            model_activity_config: Overrides `activity_config` for model requests.
            event_stream_handler_activity_config: Overrides `activity_config` for event deliveries.
            toolset_activity_config: Overrides `activity_config` per toolset id (`'agent'` or `'<agent>'` for the
                agent's own tools).
            non_retryable_model_errors: Model errors that fail a model request at once, however many attempts the
                config allows. By default 2.68's: `ModelRequestRejectedError`, `ModelQuotaExceededError` and
                `ModelRequestTimeout`. Requests the provider rejected are never retried, whatever this lists.
            parallel_execution_mode: `'parallel_ordered_events'` or `'sequential'`, as `TemporalAgent`'s.
            run_context_type: Accepted only as `TemporalRunContext`, as by `TemporalAgent`.
            continue_as_new: Called before a model request in a workflow when Temporal suggests continuing as new,
                as by 2.68's: it gets the run context and calls `workflow.continue_as_new(...)` with what the
                workflow needs to go on (`ContinueAsNewHandler`). `'auto'` is `TemporalAgent`'s only: the capability
                runs the agent in your workflow, which cannot continue as new under your workflow's code.
        """
        if isinstance(continue_as_new, str):
            raise DurableUsageError(
                f'TemporalDurability(continue_as_new={continue_as_new!r}) is not supported: the capability runs the '
                "agent in your workflow's own code, which only your workflow can continue as new. Pass a function "
                'that calls workflow.continue_as_new(...) (ContinueAsNewHandler), or wrap the agent without the '
                "capability: TemporalAgent(agent, continue_as_new='auto') runs each run in a child workflow that "
                'continues as new by itself.'
            )
        super().__init__(
            _CapabilityTemporalAgent,
            name=name,
            models=models,
            event_stream_handler=event_stream_handler,
            deps_type=deps_type,
            activity_config=activity_config,
            model_activity_config=model_activity_config,
            event_stream_handler_activity_config=event_stream_handler_activity_config,
            toolset_activity_config=toolset_activity_config,
            non_retryable_model_errors=tuple(non_retryable_model_errors),
            parallel_execution_mode=parallel_execution_mode,
            run_context_type=run_context_type,
            continue_as_new=continue_as_new,
        )

    @classmethod
    def from_agent(cls, agent: AbstractAgent[Any, Any]) -> TemporalDurability[Any] | None:
        """The `TemporalDurability` an agent runs with, or `None` (2.68's way to reach it from the agent)."""
        return temporal_durability_of(agent)

    @property
    def temporal_activities(self) -> list[Any]:
        """The activities a worker must register to run the agent (`temporal_agent.temporal_activities`)."""
        return self.temporal_agent.temporal_activities

    @property
    def temporal_agent(self) -> TemporalAgent[Any, Any]:
        """The `TemporalAgent` this capability runs on (`durable_agent`); its activities are the agent's."""
        durable = self.durable_agent
        assert isinstance(durable, TemporalAgent)
        return durable


def temporal_agent_of(agent: object) -> TemporalAgent[Any, Any] | None:
    """The `TemporalAgent` whose activities run `agent`: itself, or that of its `TemporalDurability`; else `None`."""
    if isinstance(agent, TemporalAgent):
        return agent  # pyright: ignore[reportUnknownVariableType]
    capability = temporal_durability_of(agent)
    return None if capability is None else capability.temporal_agent


def temporal_durability_of(agent: object) -> TemporalDurability[Any] | None:
    """The `TemporalDurability` of a plain agent, if it has one."""
    root: AbstractCapability[Any] | None = getattr(agent, 'root_capability', None)
    if not isinstance(agent, AbstractAgent) or root is None:
        return None
    found: list[TemporalDurability[Any]] = []

    def visit(capability: AbstractCapability[Any]) -> None:
        if isinstance(capability, TemporalDurability):
            found.append(capability)  # pyright: ignore[reportUnknownArgumentType]

    root.apply(visit)
    return found[0] if found else None


def _require_registered(agent: TemporalAgent[Any, Any]) -> None:
    config: Any = agent.unit_config(agent.unit('model_request'))
    if isinstance(config, Mapping) and config.get('task_queue'):  # pyright: ignore[reportUnknownMemberType]
        return  # its activities run on another task queue, whose workers registered them
    task_queue = workflow.info().task_queue
    if not is_registered(agent, task_queue):
        raise AgentNotRegisteredError(
            f'The agent {agent.name!r} (TemporalDurability) ran in a workflow on task queue {task_queue!r}, whose '
            'worker did not register its activities: no worker would run them. List the agent in the workflow '
            'class, `__pydantic_ai_agents__ = [agent]` (with PydanticAIPlugin on the client), or attach '
            '`AgentPlugin(agent)` to the worker. The workflow goes on once a worker that registers it picks it up.'
        )


def _tool_configs_from_metadata(agent: AbstractAgent[Any, Any]) -> dict[str, dict[str, ToolActivityConfig]]:
    """The tools' `metadata={'temporal': ...}` configs, by toolset id and tool name (`tool_activity_config`).

    A tool's own, or set by a `SetToolMetadata` capability (selecting by name or metadata), as 2.68 reads them.
    """
    configs: dict[str, dict[str, ToolActivityConfig]] = {}
    set_metadata = set_tool_metadata(agent, TEMPORAL_METADATA_KEY)

    def visit(toolset: AbstractToolset[Any]) -> None:
        if not isinstance(toolset, FunctionToolset) or toolset.id is None:
            return
        for tool_name, tool in toolset.tools.items():
            metadata = effective_metadata(tool.tool_def, set_metadata)
            if TEMPORAL_METADATA_KEY not in metadata:
                continue
            value: Any = metadata[TEMPORAL_METADATA_KEY]
            where = f"the tool {tool_name!r}'s metadata[{TEMPORAL_METADATA_KEY!r}]"
            if isinstance(value, Mapping) and 'child_workflow' in value:
                raise DurableUsageError(
                    f'{where} asks for a child workflow, which TemporalDurability does not run: give the tool an '
                    "activity (metadata={'temporal': ActivityConfig(...)}), or start a child workflow from your "
                    'own workflow code.'
                )
            if value is not False and not isinstance(value, Mapping | StepPolicy | LocalActivity):
                raise DurableUsageError(
                    f'{where} must be an ActivityConfig, a StepPolicy, a LocalActivity or False, got '
                    f'{type(value).__name__}.'
                )
            configs.setdefault(toolset.id, {})[tool_name] = cast(ToolActivityConfig, value)

    for toolset in agent.toolsets:
        toolset.apply(visit)
    return configs
