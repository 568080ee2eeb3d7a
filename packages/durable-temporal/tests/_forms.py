"""An agent in either durable form, for the tests that run in both: `TemporalAgent(agent)` and `TemporalDurability`.

Both forms run the same way, `agent.run()` in a workflow that lists the agent in `__pydantic_ai_agents__`; a workflow
of these tests lists both and takes the form to run as an argument after its own, `'wrapper'` by default, so that
the committed histories, recorded before the capability form, replay with it. Workflow modules import this one: it
imports nothing the workflow sandbox would refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from durable_temporal import TemporalAgent, TemporalDurability
from pydantic_ai import Agent, Tool
from pydantic_ai.models import Model
from pydantic_ai.toolsets import AbstractToolset

Form = Literal['wrapper', 'capability']
FORMS: tuple[Form, ...] = ('wrapper', 'capability')
WRAPPER: Form = 'wrapper'


def durable_forms(
    name: str,
    model: Model,
    *,
    tools: Sequence[Tool[Any] | Callable[..., Any]] = (),
    tool_configs: Mapping[str, Any] | None = None,
    toolsets: Callable[[], Sequence[AbstractToolset[Any]]] = tuple,
    **arguments: Any,
) -> dict[Form, TemporalAgent[Any, Any] | Agent[Any, Any]]:
    """The agent in both forms: the wrapper's named `name`, the capability's `<name>_capability`.

    Args:
        name: The wrapper's agent name; the capability's takes a suffix (two live agents may not share one).
        model: The model of both.
        tools: The agent's own tools (toolset id `agent`); a configured one is given as a function.
        tool_configs: Activity configs by tool name: the wrapper's `tool_activity_config={'agent': ...}`, the
            capability's tool `metadata={'temporal': ...}` (2.68's way; it takes no `tool_activity_config`).
        toolsets: Makes the agent's other toolsets, a fresh set for each agent.
        arguments: Arguments of `Agent` (`deps_type=`, `output_type=`, `model_settings=`) and of both forms
            (`event_stream_handler=`).
    """
    agent_arguments = {
        key: arguments.pop(key) for key in ('deps_type', 'output_type', 'model_settings') if key in arguments
    }
    configs = dict(tool_configs or {})
    wrapped = Agent(model, name=name, tools=tools, toolsets=toolsets(), **agent_arguments)
    wrapper = TemporalAgent(wrapped, tool_activity_config={'agent': configs} if configs else None, **arguments)
    capability_tools = [
        Tool(tool, metadata={'temporal': configs[tool.__name__]})
        if not isinstance(tool, Tool) and tool.__name__ in configs
        else tool
        for tool in tools
    ]
    capability = Agent(
        model,
        name=f'{name}_capability',
        tools=capability_tools,
        toolsets=toolsets(),
        capabilities=[TemporalDurability(**arguments)],
        **agent_arguments,
    )
    return {'wrapper': wrapper, 'capability': capability}


def temporal_agent(agent: TemporalAgent[Any, Any] | Agent[Any, Any]) -> TemporalAgent[Any, Any]:
    """The `TemporalAgent` whose activities run `agent`: the wrapper itself, or the one its capability runs on."""
    if isinstance(agent, TemporalAgent):
        return agent
    durability = TemporalDurability.from_agent(agent)
    assert durability is not None
    return durability.temporal_agent
