"""`DBOSAgent`: a PydanticAI agent whose runs are DBOS workflows and whose I/O runs in DBOS steps."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Generic, cast

from dbos import DBOS, StepOptions, StepReservation
from durable_core import DurableNameError, DurableUsageError
from durable_core._agent import DurableAgent, ParallelExecutionMode, RunInputs, UnitConfigs, stable_run_id
from durable_core._units import UnitCall
from pydantic_ai import RunContext
from pydantic_ai.agent import AbstractAgent, AgentRunResult, EventStreamHandler
from pydantic_ai.models import Model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT

from ._compat import dbos_is_launched, dbos_pickles_values
from ._config import StepConfigLike, step_options
from ._journal import JournaledRunResult, journaled, register_agent, registered_agent, result_from_journal

__all__ = ['DBOSAgent']

# (agent name, workflow id) of an agent's workflow whose own run() has not started yet: that run() is the workflow's
# body. Any other run() in workflow code (the user's workflow, or a tool of a run) starts a child workflow.
_PENDING_OWN_RUN: ContextVar[tuple[str, str] | None] = ContextVar('durable_dbos_pending_own_run', default=None)
# True while run(), called in workflow code, starts the agent's workflow as a child of that workflow.
_STARTING_CHILD: ContextVar[bool] = ContextVar('durable_dbos_starting_child', default=False)


class DBOSAgent(DurableAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """Wraps a PydanticAI agent so each run is a DBOS workflow and each model request a DBOS step.

    Each `run()` is a workflow `<name>.run`; called in another workflow's code, a child workflow of it. DBOS's own
    handle of the workflow returns the run's `AgentRunResult`, rebuilt by the `DBOSAgent` of that name.
    Create it before `DBOS.launch()`, in every process that runs or reads its workflows. Function tools follow
    DBOS's convention: a tool decorated with `@DBOS.step` is durable, a plain one runs in workflow
    code; `tool_step_config=` makes every function tool a step without the decorator.
    """

    engine_name = 'DBOS'
    wrapper_name = 'DBOSAgent'
    container_noun = 'workflow'
    tool_config_argument = 'tool_step_config_by_name'

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
        if registered_agent(self.name) is not None:
            raise DurableNameError(
                f'Another DBOSAgent is already named {self.name!r}; its workflows would be confused with this '
                "one's. Give each agent a unique name: Agent(..., name='...') or DBOSAgent(agent, name='...')."
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
        if dbos_is_launched():
            raise DurableUsageError(
                f'DBOSAgent {self.name!r} was created after DBOS.launch(), so DBOS could not recover its workflows '
                'after a restart. Create every DBOSAgent at import time, before calling DBOS.launch().'
            )
        # Keyed by (workflow id, run id, tool call id): tool call ids repeat across runs.
        self._reservations: dict[tuple[str, str, str], StepReservation] = {}
        self._workflow = self._register_workflow()
        register_agent(self)

    def _register_workflow(self) -> Callable[[str], Coroutine[Any, Any, JournaledRunResult | str]]:
        async def agent_workflow(inputs: str) -> JournaledRunResult | str:
            workflow_id = DBOS.workflow_id
            assert workflow_id is not None
            own_run = _PENDING_OWN_RUN.set((self.name, workflow_id))
            starting_child = _STARTING_CHILD.set(False)  # the context of the run() that started this child
            try:
                result = await self.run_inputs(self.decode_inputs(inputs))
            finally:
                _STARTING_CHILD.reset(starting_child)
                _PENDING_OWN_RUN.reset(own_run)
                self._forget_reservations(workflow_id)
            if dbos_pickles_values():
                return journaled(self.name, result)
            return self.encode_result(result)  # another serializer (portable JSON) could not write the result

        # Serialized by the app's serializer, and holding only our codec's JSON: the inputs are its JSON text, and the
        # result pickles as the agent's name and its JSON (see `_journal`), so that DBOS's own handles return a typed
        # result; with another serializer, such as DBOS's portable JSON, the result is the JSON text.
        return DBOS.workflow(name=str(self.unit('run')))(agent_workflow)

    # ---- UnitRunner ------------------------------------------------------------------------------

    def in_durable_context(self) -> bool:
        """Inside DBOS workflow code (not inside a step), unless run() is starting a child workflow from there."""
        return DBOS.workflow_id is not None and DBOS.step_id is None and not _STARTING_CHILD.get()

    async def run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run `execute` as a DBOS step, at its reserved step id when it is one of parallel tool calls."""
        options = step_options(str(call.unit), call.config)
        if call.tool_call_id is not None:
            run_context = getattr(call.inputs, 'run_context', None)  # a tool call's inputs carry the run's context
            run_id: str = getattr(run_context, 'run_id', None) or ''
            reservation = self._reservations.pop((DBOS.workflow_id or '', run_id, call.tool_call_id), None)
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
            self._reservations[(workflow_id, ctx.run_id or '', tool_call_id)] = DBOS.reserve_step()

    def _forget_reservations(self, workflow_id: str) -> None:
        for key in [key for key in self._reservations if key[0] == workflow_id]:
            del self._reservations[key]

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any]:
        if DBOS.workflow_id is not None and DBOS.step_id is None:
            # A child workflow, called directly: DBOS numbers its start and its result in the parent's journal now,
            # before anything is awaited, so concurrent runs keep their order on every execution.
            child: object = await self._workflow(self.encode_inputs(inputs))
            return result_from_journal(self.name, child)
        handle = await DBOS.start_workflow_async(self._workflow, self.encode_inputs(inputs))
        return result_from_journal(self.name, await handle.get_result())

    async def run(self, *args: Any, **kwargs: Any) -> AgentRunResult[Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Run the agent as a DBOS workflow `<name>.run`: a child workflow when called in a workflow's code."""
        workflow_id = DBOS.workflow_id
        if workflow_id is None or DBOS.step_id is not None:
            return await super().run(*args, **kwargs)
        if _PENDING_OWN_RUN.get() == (self.name, workflow_id):
            # The body of the agent's own workflow: run inline. A run() in its tools starts a child workflow.
            own_run = _PENDING_OWN_RUN.set(None)
            try:
                return await super().run(*args, **kwargs)
            finally:
                _PENDING_OWN_RUN.reset(own_run)
        # In another workflow's code: each run is a child workflow, with its own journal.
        starting_child = _STARTING_CHILD.set(True)
        try:
            return await super().run(*args, **kwargs)
        finally:
            _STARTING_CHILD.reset(starting_child)
