"""Which agents the workers and replayers of this process registered, so that workflow code can tell a missing one.

A `TemporalAgent` is listed on its workflow class, so its worker registers it. A plain agent with
`TemporalDurability` is only named in the workflow's code: a worker that never registered it would schedule
activities that no worker runs, and the run would wait for them until a timeout. Workflow code checks here first.
"""

from __future__ import annotations

from typing import Any

from durable_core.engine import DurableAgent

__all__ = ['is_registered', 'record_registered', 'registered_agent']

_REGISTERED: dict[tuple[str | None, str], DurableAgent[Any, Any]] = {}
"""The registered agents by (task queue, or `None` for a replayer, which has none; the agent's name). By name, as
Temporal finds activities: workflow code runs in a sandbox that imports the workflow's module, and its agents, anew.
The values are the host's agents, which the unsandboxed `durable_agents.AgentRun` workflow runs."""


def record_registered(agent: DurableAgent[Any, Any], task_queue: str | None) -> None:
    """Note that a worker of `task_queue` (a replayer: `None`) registered the activities of `agent`."""
    _REGISTERED[(task_queue, agent.name)] = agent


def is_registered(agent: DurableAgent[Any, Any], task_queue: str) -> bool:
    """Whether a worker of `task_queue`, or a replayer, in this process registered the activities of `agent`."""
    return registered_agent(agent.name, task_queue) is not None


def registered_agent(name: str, task_queue: str) -> DurableAgent[Any, Any] | None:
    """The agent named `name` that a worker of `task_queue`, or a replayer, in this process registered."""
    return _REGISTERED.get((task_queue, name)) or _REGISTERED.get((None, name))
