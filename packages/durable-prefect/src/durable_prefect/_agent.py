"""`PrefectAgent`: a PydanticAI agent whose runs are Prefect flows and whose I/O runs in Prefect tasks."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Generic, cast

from durable_core import DurableNameError
from durable_core.engine import (
    DurableAgent,
    EventInputs,
    ModelRequestInputs,
    ParallelExecutionMode,
    RunInputs,
    UnitCall,
    UnitConfigs,
    removed_tools_called,
    stable_run_id,
)
from prefect import Flow, Task
from prefect.context import FlowRunContext, TaskRunContext
from pydantic_ai.agent import AbstractAgent, EventStreamHandler
from pydantic_ai.models import Model
from pydantic_ai.output import OutputDataT
from pydantic_ai.tools import AgentDepsT

from ._cache import ConversationHashes, fingerprints
from ._config import TaskConfigLike, task_options
from ._scope import CURRENT_SCOPE, FlowScope, next_in_attempt, stable_flow_identity

__all__ = ['PrefectAgent']


class PrefectAgent(DurableAgent[AgentDepsT, OutputDataT], Generic[AgentDepsT, OutputDataT]):
    """Wraps a PydanticAI agent so each run is a Prefect flow and each model request and tool call a task.

    `run()` and `run_sync()` run the agent as the flow `<name>.run`; inside another flow it is a
    subflow. `iter()` inside a flow runs in that flow's code, its model requests and tool calls as
    tasks of that flow run. Completed tasks store their results, so when the flow is retried or its
    flow run is rerun, completed model requests and tool calls load their results instead of running again.

    Example:
        ```python
        import asyncio
        import os

        from pydantic_ai import Agent

        from durable_prefect import PrefectAgent, TaskConfig

        # OpenAI when OPENAI_API_KEY is set; otherwise PydanticAI's TestModel ('test') answers, offline.
        model = 'openai:gpt-6.1-sol' if os.environ.get('OPENAI_API_KEY') else 'test'
        agent = Agent(model, name='geography')  # the name is required: it names the flow and its tasks


        @agent.tool_plain
        def get_weather(city: str) -> str:
            return f'24 degrees Celsius in {city}'


        prefect_agent = PrefectAgent(agent, model_task_config=TaskConfig(retries=3))


        async def main() -> None:
            result = await prefect_agent.run('How warm is it in Lisbon?')  # the flow `geography.run`
            print(result.output)


        if __name__ == '__main__':
            asyncio.run(main())
        ```
    """

    engine_name = 'Prefect'
    wrapper_name = 'PrefectAgent'
    container_noun = 'flow'
    tool_config_argument = 'tool_task_config_by_name'
    _streams_durable_runs = True
    _duplicate_name_reason = (
        "its flow and tasks would share names with this one's other tasks, in the Prefect UI and in the tasks' "
        'cache keys'
    )
    _same_name_for_the_same_units = True  # a flow may create its PrefectAgent each time it runs
    _model_units_take_run_context = True  # a model request's cache key is scoped by its run's id
    _scope_holds_one_run = False
    """Whether a flow-code scope (`_durable_scope_for_iter`) holds one run whose id is not replay-stable, so its
    units' cache scope is the scope's identity (the capability form)."""

    def __init__(
        self,
        wrapped: AbstractAgent[AgentDepsT, OutputDataT],
        *,
        name: str | None = None,
        event_stream_handler: EventStreamHandler[AgentDepsT] | None = None,
        model_task_config: TaskConfigLike | None = None,
        tool_task_config: TaskConfigLike | None = None,
        tool_task_config_by_name: Mapping[str, TaskConfigLike | None] | None = None,
        mcp_task_config: TaskConfigLike | None = None,
        event_stream_handler_task_config: TaskConfigLike | None = None,
        models: Mapping[str, Model | str] | None = None,
        parallel_execution_mode: ParallelExecutionMode = 'parallel_ordered_events',
    ) -> None:
        """Wrap `wrapped`.

        Args:
            wrapped: The agent to make durable; it needs a `name`, or pass `name=`.
            name: The name of the agent's flow and tasks, if not the agent's own.
            event_stream_handler: Receives the run's events as they happen: model events inside the
                model-request task, every other event from a task of its own.
            model_task_config: Task options of model requests (and of the cancel of a background response a run
                gives up on, `<agent>.model_cancel`).
            tool_task_config: Task options of function-tool calls (every function tool is a task).
            tool_task_config_by_name: Task options per tool name; `None` runs that tool in flow code,
                not as a task.
            mcp_task_config: Task options of MCP and dynamic-toolset calls.
            event_stream_handler_task_config: Task options of event deliveries.
            models: Models that `run(model='key')` may select, registered by key.
            parallel_execution_mode: `'parallel_ordered_events'` runs a step's tool calls
                concurrently; `'sequential'` runs them one at a time.
        """
        super().__init__(
            wrapped,
            name=name,
            event_stream_handler=event_stream_handler,
            models=models,
            parallel_execution_mode=parallel_execution_mode,
        )
        self.unit_configs = UnitConfigs(
            model=task_options(model_task_config, what='model_task_config'),
            tool=task_options(tool_task_config, what='tool_task_config'),
            tool_by_name={
                tool: None if config is None else task_options(config, what=f'tool_task_config_by_name[{tool!r}]')
                for tool, config in (tool_task_config_by_name or {}).items()
            },
            mcp=task_options(mcp_task_config, what='mcp_task_config'),
            event=task_options(event_stream_handler_task_config, what='event_stream_handler_task_config'),
        )
        self._flow = self._make_flow()

    @property
    def flow(self) -> Flow[[str], Coroutine[Any, Any, str]]:
        """The Prefect flow of this agent's runs, named `<name>.run`; its one parameter is `encode_inputs()` JSON."""
        return self._flow

    def _make_flow(self) -> Flow[[str], Coroutine[Any, Any, str]]:
        async def agent_flow(inputs: str) -> str:
            context = FlowRunContext.get()
            assert context is not None
            assert context.flow_run is not None
            scope = FlowScope(
                agent=self,
                flow_run_id=context.flow_run.id,
                identity=await stable_flow_identity(context.flow_run),
            )
            token = CURRENT_SCOPE.set(scope)
            try:
                result = await self.run_inputs(self.decode_inputs(inputs))
            finally:
                CURRENT_SCOPE.reset(token)
            return self.encode_result(result)

        return Flow(
            agent_flow,
            name=str(self.unit('run')),
            persist_result=True,
            result_serializer='json',
            validate_parameters=False,
        )

    # ---- hooks of durable_core.engine ----------------------------------------------------------

    def _in_durable_context(self) -> bool:
        """Inside this agent's flow code (not inside one of its tasks, nor a flow nested in it)."""
        scope = CURRENT_SCOPE.get()
        if scope is None or scope.agent is not self or TaskRunContext.get() is not None:
            return False
        context = FlowRunContext.get()
        return context is not None and context.flow_run is not None and context.flow_run.id == scope.flow_run_id

    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Run `execute` as a Prefect task named after the unit, or load its stored result."""
        scope = CURRENT_SCOPE.get()
        assert scope is not None
        run_context = getattr(call.inputs, 'run_context', None)
        run_scope = scope.run_scope or getattr(run_context, 'run_id', None) or scope.identity
        # A model request's messages are its own list (processed, cleaned), the other units' the run's.
        kind = 'model' if isinstance(call.inputs, ModelRequestInputs) else 'run'
        conversation = ConversationHashes.of(scope.conversations, (run_scope, kind))
        inputs_hash, resume_hash = fingerprints(call, self.encode_deps, conversation)
        if call.inputs is None or isinstance(call.inputs, EventInputs):
            # An event is delivered once per run, and a toolset listed once per run, whatever the cache policy says.
            inputs_hash = f'{inputs_hash}@{run_scope}'
        occurrence = scope.next_occurrence(run_scope, inputs_hash)
        resume_hash = f'resume:{resume_hash}'
        resume_key = f'{resume_hash}#{scope.next_occurrence(run_scope, resume_hash)}'
        options: dict[str, Any] = call.config
        inputs = call.inputs
        if not isinstance(inputs, ModelRequestInputs):

            async def unit(inputs_hash: str, occurrence: int, run_scope: str, resume_key: str) -> str:
                return await execute()

            return await Task(unit, name=str(call.unit), **options)(inputs_hash, occurrence, run_scope, resume_key)

        offered = inputs.offered_tools()

        async def model_unit(inputs_hash: str, occurrence: int, run_scope: str, resume_key: str) -> dict[str, Any]:
            # The tools the request offered are stored with its response, for the check below on a rerun.
            return {'response': await execute(), 'offered_tools': offered}

        stored = await Task(model_unit, name=str(call.unit), **options)(inputs_hash, occurrence, run_scope, resume_key)
        if not isinstance(stored, dict):  # stored before the tools were stored with it (a user's own cache policy)
            return cast(str, stored)
        _check_called_tools_exist(self.name, stored, offered)
        return stored['response']

    def _durable_run_id(self) -> str:
        scope = CURRENT_SCOPE.get()
        assert scope is not None
        scope.runs += 1
        return stable_run_id(scope.identity, str(scope.runs))

    async def _start_durable_run(self, inputs: RunInputs) -> str:
        return await self._flow(self.encode_inputs(inputs))

    def _in_engine_code(self) -> bool:
        """Inside any Prefect flow run, where a run that is not a subflow would not be durable."""
        return FlowRunContext.get() is not None

    def _durable_scope_for_iter(self) -> AbstractAsyncContextManager[None] | None:
        """In the code of any flow (not a task): that flow run runs this `iter()`'s units as its own tasks."""
        context = FlowRunContext.get()
        if context is None or context.flow_run is None or TaskRunContext.get() is not None:
            return None
        return self._flow_code_scope(context)

    @asynccontextmanager
    async def _flow_code_scope(self, context: FlowRunContext) -> AsyncGenerator[None]:
        flow_run = context.flow_run
        assert flow_run is not None
        # Which `iter()` of this agent this is in this attempt of the flow run: a retry finds the same identities.
        key = f'durable_prefect.iter:{self.name}'
        occurrence = next_in_attempt(context, key)
        identity = f'{await stable_flow_identity(flow_run)}/{key}#{occurrence}'
        run_scope = identity if self._scope_holds_one_run else None
        scope = FlowScope(agent=self, flow_run_id=flow_run.id, identity=identity, run_scope=run_scope)
        token = CURRENT_SCOPE.set(scope)
        try:
            yield
        finally:
            CURRENT_SCOPE.reset(token)


def _check_called_tools_exist(agent: str | None, stored: dict[str, Any], offered: list[str]) -> None:
    """Refuse a stored response that calls a tool its request offered and this version of the agent does not.

    Only a response stored by an earlier execution of the run can: a live one was requested with this version's
    tools. A tool the model made up (one its request did not offer) is answered as an unknown tool, as PydanticAI
    answers it, on the rerun as the first time.
    """
    called = removed_tools_called(
        cast(str, stored['response']), cast(list[str], stored.get('offered_tools', [])), offered
    )
    if called:
        raise DurableNameError(
            f'This run of agent {agent!r} was started by a version of it with the tool(s) {called}, which its model '
            f'called, and this version has no such tool: running on would answer the call as an unknown tool. Roll '
            'back to the version that started the run to finish it (rerun the flow run there: nothing completed is '
            'repeated), and keep a tool in the agent until no run that may have called it is open.'
        )
