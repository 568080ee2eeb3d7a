"""Names of PydanticAI 2.68's `durable_exec.prefect` that 2.68 code imports, beyond `PrefectAgent` and `TaskConfig`.

`PrefectModel`, `PrefectFunctionToolset` and `PrefectMCPToolset` work as 2.68's do: in flow code, a model request
or a tool call runs as a Prefect task (2.68's task names: `Model Request: <model>`, `Call Tool: <tool>`, `Call MCP
Tool: <tool>`), so a retried or rerun flow loads its stored result instead of running it again. They are for a
plain `Agent` run in your own `@flow`; `PrefectAgent` needs none of them (it makes the model requests and every tool
call tasks itself), and inside its runs they step aside for its own tasks. Outside flow code, and inside a task,
they call the wrapped model or toolset directly (2.68 runs a task there too). The task results are durable-core's
JSON, and the cache key is a hash of the request's or call's inputs, scoped to the flow run.

`PrefectOperationNamer` (2.68's namer of the capability's tasks) is not provided: building one raises a
`DurableUsageError` that names `durable_unit_names()`, so 2.68 code fails where it starts, not in a run.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from durable_core import DurableUsageError
from durable_core.engine import ModelOperation, UnitModel, execute_tool_call, replay_tool_call
from prefect import Task
from prefect.context import FlowRunContext, TaskRunContext
from pydantic_ai import RunContext
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.models import KnownModelName, Model
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset, ToolsetTool, WrapperToolset

from ._cache import value_digest
from ._config import TaskConfigLike, task_options
from ._scope import CURRENT_SCOPE, next_in_attempt, stable_flow_identity

if TYPE_CHECKING:
    from pydantic_ai.mcp import MCPToolset

__all__ = ['PrefectFunctionToolset', 'PrefectMCPToolset', 'PrefectModel', 'PrefectOperationNamer']


def _in_plain_flow_code() -> FlowRunContext | None:
    """The flow run whose code calls, unless that is a `PrefectAgent`'s durable code (it has tasks of its own)."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None or TaskRunContext.get() is not None:
        return None
    scope = CURRENT_SCOPE.get()
    if scope is not None and scope.flow_run_id == context.flow_run.id:
        return None
    return context


async def _run_as_task(
    context: FlowRunContext,
    name: str,
    inputs: Any,
    options: Mapping[str, Any],
    execute: Callable[[], Coroutine[Any, Any, str]],
) -> str:
    """Run `execute` as a Prefect task of the flow run, keyed by its inputs and their occurrence in this attempt."""
    flow_run = context.flow_run
    assert flow_run is not None
    inputs_hash = value_digest([name, inputs])
    # How many calls with these inputs came before in this attempt: a retry finds the same occurrences.
    occurrence = next_in_attempt(context, f'durable_prefect.task:{inputs_hash}')

    async def unit(inputs_hash: str, occurrence: int, run_scope: str) -> str:
        return await execute()

    return await Task(unit, name=name, **options)(inputs_hash, occurrence, await stable_flow_identity(flow_run))


class PrefectModel(UnitModel):
    """A model whose requests are Prefect tasks in flow code: PydanticAI 2.68's `PrefectModel`.

    `PrefectAgent` makes its model's requests tasks itself (`<agent>.model_request`); this class is for 2.68 code that
    builds one, for instance to give a plain `Agent` run in your own `@flow` durable model requests. In flow code,
    `request()` and `request_stream()` run as the task `Model Request: <model name>` (streamed: `Model Request
    (Streaming): ...`, whose handler from `get_event_stream_handler` gets the live stream inside the task), and
    `cancel_suspended_response()` as `Model Cancel Suspended Response: ...`. Elsewhere they call the wrapped model.
    """

    def __init__(
        self,
        model: Model | KnownModelName | str,
        *,
        task_config: TaskConfigLike | None = None,
        get_event_stream_handler: Callable[[], EventStreamHandler[Any] | None] | None = None,
    ) -> None:
        """Wrap `model`.

        Args:
            model: The model that sends the requests, or its name.
            task_config: Options of the tasks (a `TaskConfig`, or a durable-core `StepPolicy`); checked now.
            get_event_stream_handler: Called in each streamed request's task for the handler that receives the live
                stream (`None`: no handler).
        """
        super().__init__(model, get_event_stream_handler=get_event_stream_handler)
        self.task_config: TaskConfigLike = task_config or {}
        self._options = task_options(task_config, what='PrefectModel(task_config=...)')

    def _unit_scope(self) -> FlowRunContext | None:
        return _in_plain_flow_code()

    async def _run_model_unit(
        self,
        scope: Any,
        operation: ModelOperation,
        key_inputs: list[Any],
        execute: Callable[[], Coroutine[Any, Any, str]],
    ) -> str:
        model_name = self.wrapped.model_name
        # 2.68's task names; the cache key also holds the provider (`system`) of a request.
        if operation == 'cancel_suspended_response':
            name, key = f'Model Cancel Suspended Response: {model_name}', [model_name, *key_inputs]
        else:
            streaming = ' (Streaming)' if operation == 'request_stream' else ''
            name, key = f'Model Request{streaming}: {model_name}', [self.wrapped.system, model_name, *key_inputs]
        return await _run_as_task(scope, name, key, self._options, execute)


class _TaskToolset(WrapperToolset[AgentDepsT], Generic[AgentDepsT]):
    """Runs the wrapped toolset's calls as Prefect tasks in flow code; elsewhere, directly."""

    _task_prefix = 'Call Tool'

    def _options_for(self, name: str) -> Mapping[str, Any] | None:
        raise NotImplementedError

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[AgentDepsT], tool: ToolsetTool[AgentDepsT]
    ) -> Any:
        """Call the tool from a task in flow code (unless configured `None`); elsewhere, directly."""
        context = _in_plain_flow_code()
        options = self._options_for(name)
        if context is None or options is None:
            return await super().call_tool(name, tool_args, ctx, tool)
        wrapped = self.wrapped

        async def execute() -> str:
            return await execute_tool_call(wrapped, name, tool_args, ctx)

        inputs = [wrapped.id, name, tool_args, ctx.tool_call_id, ctx.deps, ctx.retry]
        return replay_tool_call(await _run_as_task(context, f'{self._task_prefix}: {name}', inputs, options, execute))


@dataclass(init=False)
class PrefectFunctionToolset(_TaskToolset[AgentDepsT]):
    """A function toolset whose calls are Prefect tasks in flow code: PydanticAI 2.68's `PrefectFunctionToolset`.

    `PrefectAgent` makes every function tool of the agent a task itself (`tool_task_config=`,
    `tool_task_config_by_name=`); this class is for 2.68 code that builds one, for instance for a plain `Agent` run in
    your own `@flow`. In flow code each call runs as the task `Call Tool: <tool>`; a tool configured `None` in
    `tool_task_config` runs in flow code.
    """

    task_config: TaskConfigLike
    """The options of every tool's task."""
    tool_task_config: dict[str, TaskConfigLike | None]
    """The options per tool name; `None` runs that tool in flow code."""

    def __init__(
        self,
        wrapped: AbstractToolset[AgentDepsT],
        *,
        task_config: TaskConfigLike | None = None,
        tool_task_config: Mapping[str, TaskConfigLike | None] | None = None,
    ) -> None:
        """Wrap `wrapped`.

        Args:
            wrapped: The toolset, usually a `FunctionToolset`.
            task_config: Options of the tasks of every tool (a `TaskConfig`, or a `StepPolicy`); checked now.
            tool_task_config: Options per tool name; `None` runs that tool in flow code, not as a task.
        """
        super().__init__(wrapped)
        self.task_config: TaskConfigLike = task_config or {}
        self.tool_task_config: dict[str, TaskConfigLike | None] = dict(tool_task_config or {})
        if isinstance(wrapped, FunctionToolset):
            unknown = sorted(set(self.tool_task_config) - set(wrapped.tools))
            if unknown:
                raise DurableUsageError(
                    f'PrefectFunctionToolset(tool_task_config=...) names the tools {unknown}, which the toolset does '
                    f'not have; its tools are {sorted(wrapped.tools)}.'
                )
        self._default = task_options(task_config, what='PrefectFunctionToolset(task_config=...)')
        self._by_name = {
            tool: None
            if config is None
            else task_options(config, what=f'PrefectFunctionToolset(tool_task_config={{{tool!r}: ...}})')
            for tool, config in self.tool_task_config.items()
        }

    def _options_for(self, name: str) -> Mapping[str, Any] | None:
        return self._by_name.get(name, self._default)


@dataclass(init=False)
class PrefectMCPToolset(_TaskToolset[AgentDepsT]):
    """An MCP toolset whose tool calls are Prefect tasks in flow code: PydanticAI 2.68's `PrefectMCPToolset`.

    `PrefectAgent` makes an MCP toolset's listing and calls tasks itself (`mcp_task_config=`); this class is for 2.68
    code that builds one, for instance for a plain `Agent` run in your own `@flow`. In flow code each call runs as the
    task `Call MCP Tool: <tool>`; listing the tools is not a task, as in 2.68.
    """

    task_config: TaskConfigLike
    """The options of the tasks of its calls."""

    _task_prefix = 'Call MCP Tool'

    def __init__(self, wrapped: MCPToolset[AgentDepsT], *, task_config: TaskConfigLike | None = None) -> None:
        """Wrap `wrapped`.

        Args:
            wrapped: The MCP toolset (`MCPToolset`, or an MCP server).
            task_config: Options of the tasks of its calls (a `TaskConfig`, or a `StepPolicy`); checked now.
        """
        super().__init__(wrapped)
        self.task_config: TaskConfigLike = task_config or {}
        self._options = task_options(task_config, what='PrefectMCPToolset(task_config=...)')

    def _options_for(self, name: str) -> Mapping[str, Any] | None:
        return self._options


class PrefectOperationNamer:
    """PydanticAI 2.68's namer of Prefect task names: not provided. Building one raises `DurableUsageError`.

    Our flow and task names are fixed, derived from the agent's name and its toolset ids (`<agent>.run`,
    `<agent>.model_request`, ...), and listed by `PrefectAgent.durable_unit_names()`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming `durable_unit_names()`."""
        raise DurableUsageError(
            'durable_prefect has no PrefectOperationNamer: a PrefectAgent names its flow and tasks after the agent '
            '(`name=`) and its toolset ids; `prefect_agent.durable_unit_names()` lists them. Choose the names there.'
        )
