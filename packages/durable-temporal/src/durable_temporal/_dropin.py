"""Names of PydanticAI 2.68's `durable_exec.temporal` that 2.68 code imports, beyond the agent and its plugins.

`TemporalRunContext` is an alias of the run context our activities rebuild. The rest belong to parts of 2.68 we do
not have (its operation namer, its toolset wrapper, its workflow event streams): building one,
or calling one of its functions, raises a `DurableUsageError` that names our way, so 2.68 code fails where it starts
rather than in a run. `ContinueAsNewHandler` is the type of 2.68's `TemporalDurability(continue_as_new=...)`, which
ours does not take.
"""

from __future__ import annotations

from typing import Any, NoReturn

from durable_core import DurableRunContext, DurableUsageError
from pydantic_ai import RunContext

__all__ = [
    'AgentEventStream',
    'DurableAgentRunEvents',
    'TemporalOperationNamer',
    'TemporalRunContext',
    'TemporalWrapperToolset',
    'WorkflowStreamTopic',
    'refuse_run_context_type',
    'refuse_unsupported_arguments',
    'stream_agent_events',
    'workflow_stream_event_handler',
]

TemporalRunContext = DurableRunContext
"""PydanticAI 2.68's name for the run context a tool, MCP call or event handler gets inside an activity: an alias of
`durable_core.DurableRunContext`, which that context is (`isinstance(ctx, TemporalRunContext)` holds there).

It carries `durable_core.CARRIED_RUN_CONTEXT_FIELDS` (deps through the agent's `deps_type`, usage, retries, the
tool call, ...); reading another field raises `NotCarriedError`. 2.68 lets a subclass carry more through
`run_context_type=`; `TemporalAgent` refuses a subclass there: carry such data in the deps."""

_STREAMS_FIX = (
    'TemporalAgent delivers events to `TemporalAgent(agent, event_stream_handler=...)`: model events live inside '
    'the model-request activity, other events each from an activity of their own. Send them on to a client from '
    'that handler (your own queue or pub/sub), or query the workflow.'
)


class TemporalOperationNamer:
    """PydanticAI 2.68's namer of activity names: not provided. Building one raises `DurableUsageError`.

    Our activity names are fixed, derived from the agent's name and its toolset ids (`<agent>.model_request`,
    `<agent>.tool_call.<toolset>.<tool>`, ...), and listed by `TemporalAgent.durable_unit_names()`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming `durable_unit_names()`."""
        raise DurableUsageError(
            'durable_temporal has no TemporalOperationNamer: a TemporalAgent names its activities after the agent '
            '(`name=`) and its toolset ids; `temporal_agent.durable_unit_names()` lists them. Choose the names there.'
        )


class TemporalWrapperToolset:
    """PydanticAI 2.68's base of a toolset whose calls are activities: not provided. Building one is refused.

    `TemporalAgent` runs every toolset the agent has in activities itself (function, MCP and dynamic toolsets, and
    any other toolset's calls): register the toolset on the agent and configure it with `toolset_activity_config`
    or `tool_activity_config` by its id.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming how a toolset gets activities."""
        raise DurableUsageError(
            'durable_temporal has no TemporalWrapperToolset: TemporalAgent runs the calls of every toolset the agent '
            'has in activities itself. Register the toolset on the agent (`Agent(toolsets=[...])`, with an `id=`) '
            'and configure it with `toolset_activity_config={id: ...}`; there is no `temporalize_toolset_func=`.'
        )


class AgentEventStream:
    """PydanticAI 2.68's event stream of a workflow: not provided. Building one raises `DurableUsageError`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming `event_stream_handler=`."""
        raise DurableUsageError(f'durable_temporal has no AgentEventStream. {_STREAMS_FIX}')


class WorkflowStreamTopic:
    """PydanticAI 2.68's topic of a workflow event stream: not provided. Building one raises `DurableUsageError`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming `event_stream_handler=`."""
        raise DurableUsageError(f'durable_temporal has no WorkflowStreamTopic. {_STREAMS_FIX}')


class DurableAgentRunEvents:
    """PydanticAI 2.68's client-side events of a workflow's run: not provided. Building one is refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming `event_stream_handler=`."""
        raise DurableUsageError(f'durable_temporal has no DurableAgentRunEvents. {_STREAMS_FIX}')


def workflow_stream_event_handler(*args: Any, **kwargs: Any) -> NoReturn:
    """PydanticAI 2.68's handler that publishes events to a workflow stream: not provided; calling it is refused."""
    raise DurableUsageError(f'durable_temporal has no workflow_stream_event_handler. {_STREAMS_FIX}')


def stream_agent_events(*args: Any, **kwargs: Any) -> NoReturn:
    """PydanticAI 2.68's client-side reader of a workflow stream: not provided; calling it is refused."""
    raise DurableUsageError(f'durable_temporal has no stream_agent_events. {_STREAMS_FIX}')


def refuse_run_context_type(run_context_type: type[RunContext[Any]]) -> None:
    """Refuse a `run_context_type=` other than `TemporalRunContext` itself, naming the fix."""
    if run_context_type is not TemporalRunContext:
        raise DurableUsageError(
            f'TemporalAgent(run_context_type={getattr(run_context_type, "__qualname__", run_context_type)!r}) is not '
            'supported: activities get a TemporalRunContext carrying durable_core.CARRIED_RUN_CONTEXT_FIELDS (deps '
            "through the agent's deps_type, usage, retries, the tool call, ...), and a subclass's "
            '`serialize_run_context` is not used. Carry the extra data in the deps, and drop `run_context_type=`.'
        )


_ARGUMENT_FIXES = {
    'provider_factory': (
        'the worker builds each model from what `models=` registers or from a model string: register a model '
        "instance built with its provider, e.g. `models={'fast': OpenAIChatModel('gpt-4.1-mini', provider=...)}`"
    ),
    'temporalize_toolset_func': (
        'TemporalAgent gives every toolset of the agent its activities itself: register the toolset on the agent '
        'with an `id=` and configure it with `toolset_activity_config={id: ...}`'
    ),
}


def refuse_unsupported_arguments(**arguments: object) -> None:
    """Refuse PydanticAI 2.68 `TemporalAgent` arguments ours does not take, unless `None`, naming the fix."""
    for name, value in arguments.items():
        if value is not None:
            raise DurableUsageError(
                f'TemporalAgent({name}=...) is not supported: {_ARGUMENT_FIXES[name]}. Drop {name}=.'
            )
