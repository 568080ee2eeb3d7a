"""`DBOSAgent`: a PydanticAI agent whose runs are DBOS workflows and whose I/O runs in DBOS steps."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Generic, cast

from dbos import DBOS, StepOptions, StepReservation, WorkflowSerializationFormat
from durable_core import DurableNameError, DurableUsageError
from durable_core._agent import DurableAgent, ParallelExecutionMode, RunInputs, UnitConfigs, stable_run_id
from durable_core._units import UnitCall
from pydantic_ai import RunContext
from pydantic_ai.agent import AbstractAgent, AgentRunResult, EventStreamHandler
from pydantic_ai.models import Model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT

from ._compat import dbos_is_launched
from ._config import StepConfigLike, step_options

__all__ = ['DBOSAgent']

# Agent names are workflow names: two agents with one name would recover each other's runs.
_REGISTERED_NAMES: set[str] = set()


class DBOSAgent(DurableAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """Wraps a PydanticAI agent so each run is a DBOS workflow and each model request a DBOS step.

    Create it before `DBOS.launch()`, so that DBOS can recover its workflows. Function tools follow
    DBOS's convention: a tool decorated with `@DBOS.step` is durable, a plain one runs in workflow
    code; `tool_step_config=` makes every function tool a step without the decorator.
    """

    engine_name = 'DBOS'
    wrapper_name = 'DBOSAgent'
    container_noun = 'workflow'

    def __init__(
        self,
        wrapped: AbstractAgent[AgentDepsT, OutputDataT],
        *,
        name: str | None = None,
        event_stream_handler: EventStreamHandler[AgentDepsT] | None = None,
        model_step_config: StepConfigLike | None = None,
        mcp_step_config: StepConfigLike | None = None,
        tool_step_config: StepConfigLike | None = None,
        tool_step_config_by_name: Mapping[str, StepConfigLike | None] | None = None,
        event_step_config: StepConfigLike | None = None,
        parallel_execution_mode: ParallelExecutionMode = 'parallel_ordered_events',
        models: Mapping[str, Model | str] | None = None,
    ) -> None:
        """Wrap `wrapped`.

        Args:
            wrapped: The agent to make durable; it needs a `name`, or pass `name=`.
            name: The name of the agent's workflow and steps, if not the agent's own.
            event_stream_handler: Receives the run's events: model events live inside the model step,
                tool events each from a step of their own.
            model_step_config: Retries and timeout of model-request steps.
            mcp_step_config: Retries and timeout of MCP and other toolset steps.
            tool_step_config: Make every function tool a step with this config; `None` (the default)
                keeps DBOS's convention that only `@DBOS.step` tools are steps.
            tool_step_config_by_name: Per tool name: a config makes that tool a step, `None` keeps it in
                workflow code.
            event_step_config: Retries of event-delivery steps.
            parallel_execution_mode: `'parallel_ordered_events'` runs tool calls concurrently and journals
                them in call order; `'sequential'` runs one at a time.
            models: Models that `run(model='key')` may select, registered by key.
        """
        super().__init__(
            wrapped,
            name=name,
            event_stream_handler=event_stream_handler,
            models=models,
            parallel_execution_mode=parallel_execution_mode,
        )
        if self.name in _REGISTERED_NAMES:
            raise DurableNameError(
                f'Another DBOSAgent is already named {self.name!r}; its workflows would be confused with this '
                "one's. Give each agent a unique name: Agent(..., name='...') or DBOSAgent(agent, name='...')."
            )
        if dbos_is_launched():
            raise DurableUsageError(
                f'DBOSAgent {self.name!r} was created after DBOS.launch(), so DBOS could not recover its workflows '
                'after a restart. Create every DBOSAgent at import time, before calling DBOS.launch().'
            )
        for config in (model_step_config, mcp_step_config, tool_step_config, event_step_config):
            step_options('', config)  # refuse a malformed config now, not at the first step of a run
        for config in (tool_step_config_by_name or {}).values():
            step_options('', config)
        self.unit_configs = UnitConfigs(
            model=model_step_config,
            tool=tool_step_config,
            tool_by_name=dict(tool_step_config_by_name or {}),
            mcp=mcp_step_config,
            event=event_step_config,
        )
        self._reservations: dict[tuple[str, str], StepReservation] = {}
        self._live_results: dict[str, AgentRunResult[Any]] = {}
        self._workflow = self._register_workflow()
        _REGISTERED_NAMES.add(self.name)

    def _register_workflow(self) -> Callable[[str], Coroutine[Any, Any, str]]:
        async def agent_workflow(inputs: str) -> str:
            workflow_id = DBOS.workflow_id
            assert workflow_id is not None
            try:
                result = await self.run_inputs(RunInputs.model_validate_json(inputs))
            finally:
                self._forget_reservations(workflow_id)
            self._live_results[workflow_id] = result
            return self.encode_result(result)

        # Portable JSON: inputs and result are our codec's JSON text, never pickled.
        return DBOS.workflow(name=str(self.unit('run')), serialization_type=WorkflowSerializationFormat.PORTABLE)(
            agent_workflow
        )

    # ---- UnitRunner ------------------------------------------------------------------------------

    def in_durable_context(self) -> bool:
        """Inside DBOS workflow code (not inside a step)."""
        return DBOS.workflow_id is not None and DBOS.step_id is None

    async def run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run `execute` as a DBOS step, at its reserved step id when it is one of parallel tool calls."""
        options = step_options(str(call.unit), call.config)
        if call.tool_call_id is not None:
            workflow_id = DBOS.workflow_id
            reservation = self._reservations.pop((workflow_id or '', call.tool_call_id), None)
            if reservation is not None:
                return await reservation.run_async(cast(StepOptions, options), execute)
        return await DBOS.run_step_async(cast(StepOptions, options), execute)

    # ---- DurableAgent hooks ------------------------------------------------------------------

    def _durable_run_id(self) -> str:
        # The reserved step id is the same each time DBOS re-executes this workflow.
        reservation = DBOS.reserve_step()
        return stable_run_id(DBOS.workflow_id or '', str(reservation.step_id))

    def _before_tool_calls(self, ctx: RunContext[Any], tool_call_ids: Sequence[str]) -> None:
        # Parallel tool calls start in whatever order their tasks run; reserving their step ids here,
        # in call order, journals them the same way on every recovery.
        if self._parallel_execution_mode == 'sequential' or len(tool_call_ids) < 2:
            return
        workflow_id = DBOS.workflow_id or ''
        for tool_call_id in tool_call_ids:
            self._reservations[(workflow_id, tool_call_id)] = DBOS.reserve_step()

    def _forget_reservations(self, workflow_id: str) -> None:
        for key in [key for key in self._reservations if key[0] == workflow_id]:
            del self._reservations[key]

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any]:
        handle = await DBOS.start_workflow_async(self._workflow, inputs.model_dump_json(exclude_none=True))
        journaled: str = await handle.get_result()
        live = self._live_results.pop(handle.workflow_id, None)
        return live if live is not None else self.decode_result(journaled)

    async def run(self, *args: Any, **kwargs: Any) -> AgentRunResult[Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Run the agent as a DBOS workflow, or as part of the workflow that calls it."""
        workflow_id = DBOS.workflow_id if self.in_durable_context() else None
        try:
            return await super().run(*args, **kwargs)
        finally:
            if workflow_id is not None:
                self._forget_reservations(workflow_id)
