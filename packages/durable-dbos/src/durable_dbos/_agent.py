"""`DBOSAgent`: a PydanticAI agent whose runs are DBOS workflows and whose I/O runs in DBOS steps."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Generic, cast

from dbos import DBOS, StepOptions, StepReservation
from dbos import error as dbos_error
from durable_core import DurableUsageError
from durable_core.engine import (
    DurableAgent,
    ParallelExecutionMode,
    RunInputs,
    UnitCall,
    UnitConfigs,
    UnitId,
    stable_run_id,
)
from pydantic_ai import RunContext
from pydantic_ai.agent import AbstractAgent, AgentRunResult, EventStreamHandler
from pydantic_ai.models import Model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT

from ._compat import dbos_is_launched, dbos_pickles_values
from ._config import StepConfigLike, step_options
from ._journal import JournaledRunResult, journaled, result_from_journal
from ._warnings import CreatedAfterLaunchWarning

__all__ = ['DBOSAgent', 'DBOSParallelExecutionMode', 'IncompatibleDeployError']

DBOSParallelExecutionMode = ParallelExecutionMode
"""PydanticAI 2.68's name for `parallel_execution_mode`'s values, kept for code written for it: the same type as
`durable_core.engine.ParallelExecutionMode`."""


class DBOSAgent(DurableAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """Wraps a PydanticAI agent so each run is a DBOS workflow and each model request a DBOS step.

    Each `run()` is a workflow `<name>.run`; called in another workflow's code, a child workflow of it. DBOS's own
    handle of the workflow returns the run's `AgentRunResult`, rebuilt by the `DBOSAgent` of that name.
    Create it before `DBOS.launch()`, in every process that runs or reads its workflows: one created after launch
    runs, with a `CreatedAfterLaunchWarning`, but DBOS may not recover its workflows. Function tools follow
    DBOS's convention: a tool decorated with `@DBOS.step` is durable, a plain one runs in workflow
    code; `tool_step_config=` makes every function tool a step without the decorator. A tool's
    `metadata={'dbos': {'child_workflow': ...}}` is ignored, as by 2.68's `DBOSAgent`: only `DBOSDurability` runs
    such a tool as a child workflow.
    """

    engine_name = 'DBOS'
    wrapper_name = 'DBOSAgent'
    container_noun = 'workflow'
    tool_config_argument = 'tool_step_config_by_name'
    # Each run() in workflow code (the user's workflow, or a tool of a run) is a child workflow with its own journal.
    _runs_in_durable_code_are_children = True
    # A step's first execution hands back the very text it returned: the run takes the value it made as it is.
    keeps_unit_values = True
    _duplicate_name_reason = "its workflows and steps would be confused with this one's"

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
            model_step_config: Retries and timeout of model-request steps (and of the step that cancels a background
                response a run gives up on, `<agent>.model_cancel`).
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
        # Keyed by (workflow id, run id, tool call id): tool call ids repeat across runs.
        self._reservations: dict[tuple[str, str, str], StepReservation] = {}
        # Each unit's step options with the config they were built from, built at its first step, not at every step.
        self._step_options: dict[UnitId, tuple[object, StepOptions]] = {}
        self._workflow = self._register_workflow()  # `None` in the capability form: the user's workflow runs it

    def _register_workflow(self) -> Callable[[str], Coroutine[Any, Any, JournaledRunResult | str]] | None:
        _warn_if_launched(self.name, str(self.unit('run')))

        async def agent_workflow(inputs: str) -> JournaledRunResult | str:
            result = await self.run_inputs(self.decode_inputs(inputs))
            if dbos_pickles_values():
                return journaled(self.name, result)
            return self.encode_result(result)  # another serializer (portable JSON) could not write the result

        # Serialized by the app's serializer, and holding only our codec's JSON: the inputs are its JSON text, and the
        # result pickles as the agent's name and its JSON (see `_journal`), so that DBOS's own handles return a typed
        # result; with another serializer, such as DBOS's portable JSON, the result is the JSON text.
        # `agent_workflow`'s source is hashed into DBOS's default application version: keep it as it is.
        return DBOS.workflow(name=str(self.unit('run')))(agent_workflow)

    # ---- hooks of durable_core.engine ----------------------------------------------------------

    def _in_durable_context(self) -> bool:
        """Inside DBOS workflow code (not inside a step)."""
        return DBOS.workflow_id is not None and DBOS.step_id is None

    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run `execute` as a DBOS step, at its reserved step id when it is one of parallel tool calls."""
        cached = self._step_options.get(call.unit)
        if cached is None or cached[0] is not call.config:  # a new config: `unit_configs` was set again
            cached = self._step_options[call.unit] = (
                call.config,
                cast(StepOptions, step_options(str(call.unit), call.config)),
            )
        options = cached[1]  # DBOS reads it, never changes it
        if call.tool_call_id is not None:
            run_context = getattr(call.inputs, 'run_context', None)  # a tool call's inputs carry the run's context
            run_id: str = getattr(run_context, 'run_id', None) or ''
            reservation = self._reservations.pop((DBOS.workflow_id or '', run_id, call.tool_call_id), None)
            if reservation is not None:
                return await _resumable(reservation.run_async(options, execute))
        return await _resumable(DBOS.run_step_async(options, execute))

    def _durable_run_id(self) -> str:
        # Asked once, as a run starts in workflow code (its own workflow, or the user's for `iter()` and the
        # capability form). Two such runs at once in one workflow would take step ids in whatever order their steps
        # start, and a recovery could hand one run's steps to the other; a run inside another (from a tool) is
        # fine, as the other waits for it.
        workflow_id = DBOS.workflow_id or ''
        running = _RUNS_IN_WORKFLOW.setdefault(workflow_id, set())
        enclosing = _ENCLOSING_RUNS.get()
        if not running <= set(enclosing):
            raise DurableUsageError(
                f'Another durable agent run is under way in the DBOS workflow {workflow_id!r}: runs in one workflow '
                "share its journal, so they must run one after the other, or a recovery could give one run's steps to "
                'the other. Run each concurrent run in a workflow of its own: `DBOSAgent.run()` starts one (a child '
                'workflow); with `DBOSDurability`, a `@DBOS.workflow` that calls `agent.run()`, started from this one.'
            )
        # The reserved step id is the same each time DBOS re-executes this workflow.
        reservation = DBOS.reserve_step()
        run_id = stable_run_id(workflow_id, str(reservation.step_id))
        running.add(run_id)
        _ENCLOSING_RUNS.set((*enclosing, run_id))  # the run's own code, and what it starts, is inside it
        return run_id

    def _before_tool_calls(self, ctx: RunContext[Any], tool_call_ids: Sequence[str]) -> None:
        # Parallel tool calls start in whatever order their tasks run; reserving their step ids here,
        # in call order, journals them the same way on every recovery.
        if self._parallel_execution_mode == 'sequential' or len(tool_call_ids) < 2:
            return
        workflow_id = DBOS.workflow_id or ''
        for tool_call_id in tool_call_ids:
            self._reservations[(workflow_id, ctx.run_id or '', tool_call_id)] = DBOS.reserve_step()

    def _after_run(self, run_id: str) -> None:
        workflow_id = DBOS.workflow_id or ''
        running = _RUNS_IN_WORKFLOW.get(workflow_id, set())
        running.discard(run_id)
        if not running:
            _RUNS_IN_WORKFLOW.pop(workflow_id, None)
        _ENCLOSING_RUNS.set(tuple(enclosing for enclosing in _ENCLOSING_RUNS.get() if enclosing != run_id))
        # A run that ended early (an error, an approval request) leaves reservations nobody will use.
        for key in [key for key in self._reservations if key[:2] == (workflow_id, run_id)]:
            del self._reservations[key]

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any]:
        if DBOS.step_id is None:
            # Called directly. In workflow code, a child workflow: DBOS numbers its start and its result in the
            # parent's journal now, before anything is awaited, so concurrent runs keep their order on every
            # execution. Outside any workflow, DBOS runs it in this task (no task and handle to wait on).
            assert self._workflow is not None, 'the capability form starts no workflow of its own'
            result: object = await self._workflow(self.encode_inputs(inputs))
            return result_from_journal(self.name, result)
        # From a step (a tool that runs another agent): a workflow of its own, which the step waits for.
        assert self._workflow is not None, 'the capability form starts no workflow of its own'
        handle = await DBOS.start_workflow_async(self._workflow, self.encode_inputs(inputs))
        return result_from_journal(self.name, await handle.get_result())


_RUNS_IN_WORKFLOW: dict[str, set[str]] = {}
"""The durable agent runs under way in each workflow execution of this process, by workflow id."""
_ENCLOSING_RUNS: ContextVar[tuple[str, ...]] = ContextVar('durable_dbos_enclosing_runs', default=())
"""The runs the calling code is inside of, outermost first."""


class IncompatibleDeployError(BaseException):
    """A recovered run's journal has another step where the running code takes one: an incompatible deploy.

    Most often the deploy removed or renamed a tool the run already called, or changed the order of its units.
    DBOS finds the mismatch (its `DBOSUnexpectedStepError`) and would record it as the run's outcome, `ERROR`, which
    no DBOS operation resumes. This error is a `BaseException` so that DBOS records nothing: the run stays `PENDING`
    with every step it completed, and a worker of the version that started it (same `application_version`) recovers
    it. The message names the journaled step, the step this code runs, and the fix; it is also logged to
    `DBOS.logger`, since DBOS does not log it.
    """

    def __init__(self, workflow_id: str, step_id: int, journaled: str, running: str) -> None:
        self.workflow_id = workflow_id
        self.step_id = step_id
        self.journaled = journaled
        self.running = running
        super().__init__(
            f'The DBOS workflow {workflow_id!r} journaled the step {journaled!r} at step {step_id}, where this code '
            f'runs {running!r}: this version of the agent does not take the steps of the version that started the '
            'run (a removed or renamed tool, toolset or agent, or units in another order). The run is left PENDING '
            'with every step it completed. To finish it, roll back to the version that started it: its workers '
            'recover the run at launch. Deploy such a change under a new `application_version`, and keep workers of '
            'the old one until its runs are done; to remove a tool, keep it in the agent until no run that may '
            'have called it is open.'
        )

    def __reduce__(self) -> tuple[type[IncompatibleDeployError], tuple[str, int, str, str]]:
        return (IncompatibleDeployError, (self.workflow_id, self.step_id, self.journaled, self.running))


async def _resumable(step: Coroutine[Any, Any, str]) -> str:
    """The step's result; a journal that this code does not match raises `IncompatibleDeployError`."""
    try:
        return await step
    except dbos_error.DBOSUnexpectedStepError as mismatch:
        workflow_id, step_id, running, journaled = mismatch.inputs
        error = IncompatibleDeployError(workflow_id, step_id, journaled, running)
        DBOS.logger.error(str(error))
        raise error from mismatch


def _warn_if_launched(agent_name: str, workflow_name: str) -> None:
    if dbos_is_launched():
        # DBOS itself warns, and registers, a configured instance registered after launch; so do we.
        warnings.warn(
            f'DBOSAgent {agent_name!r} was created after DBOS.launch(). It runs, but DBOS may not recover its '
            f'workflows after a crash: DBOS recovers pending workflows at launch, before {workflow_name} '
            'was registered, and its default application version counts only the workflows registered by then. '
            'Create every DBOSAgent at import time, before calling DBOS.launch(), in every process (where a late '
            "agent is intended: warnings.filterwarnings('ignore', category=CreatedAfterLaunchWarning)).",
            CreatedAfterLaunchWarning,
            stacklevel=4,  # the caller of DBOSAgent(...)
        )
