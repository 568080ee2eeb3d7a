"""`DBOSDurability`: the capability form of `DBOSAgent`, for `Agent(..., capabilities=[DBOSDurability(...)])`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, cast

from durable_core.engine import DurabilityCapability, ParallelExecutionMode, RunInputs, UnitId, UnitKind
from pydantic_ai.agent import AgentRunResult, EventStreamHandler
from pydantic_ai.models import Model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT

from ._agent import DBOSAgent
from ._config import StepConfigLike

__all__ = ['DBOSDurability']


class _CapabilityDBOSAgent(DBOSAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """The `DBOSAgent` a `DBOSDurability` runs on: the user's workflow runs the agent, so it registers none."""

    wrapper_name = 'DBOSDurability'
    _run_is_unit = False

    def _register_workflow(self) -> None:
        return None


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
        if self._register_legacy_workflows:
            # DBOS recovers pending workflows at launch: the workflow is registered now, when the agent is created.
            DBOSAgent._register_workflow(cast(Any, _RunWorkflowHost(self, agent_name)))  # pyright: ignore[reportPrivateUsage]
