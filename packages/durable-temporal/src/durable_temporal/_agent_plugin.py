"""`AgentPlugin`: one agent's activities on a worker, and the registration both plugins share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from durable_core import DurableNameError, DurableUsageError
from temporalio.plugin import SimplePlugin
from temporalio.worker import WorkerConfig

from ._agent import TemporalAgent

__all__ = ['AgentPlugin', 'register_agents']


class AgentPlugin(SimplePlugin):
    """A worker plugin that registers one `TemporalAgent`'s activities, without listing it on a workflow.

    For workflows that run an agent they do not list in `__pydantic_ai_agents__` (one chosen at run time, or
    one a library's workflow runs). Keep `PydanticAIPlugin` on the client: it installs the data converter and
    the sandbox settings the activities need. An agent registered both ways, or by two `AgentPlugin`s, is
    registered once; two different agents whose activities have the same names are refused.

    Example:
        ```python
        client = await Client.connect('localhost:7233', plugins=[PydanticAIPlugin()])
        worker = Worker(client, task_queue='geography', workflows=[AnyAgentWorkflow], plugins=[AgentPlugin(agent)])
        ```
    """

    def __init__(self, agent: TemporalAgent[Any, Any]) -> None:
        """Register the activities of `agent` on the workers this plugin is attached to.

        Args:
            agent: The `TemporalAgent` whose activities to register (`agent.temporal_activities`).

        Raises:
            DurableUsageError: `agent` is not a `TemporalAgent`.
        """
        if not isinstance(agent, TemporalAgent):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise DurableUsageError(
                f'AgentPlugin takes a TemporalAgent, got {type(agent).__name__}: wrap the agent first, '
                'AgentPlugin(TemporalAgent(agent)).'
            )
        self.agent = agent
        super().__init__('durable_temporal.AgentPlugin')  # pyright: ignore[reportUnknownMemberType]

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        """Add the agent's activities, skipping those already registered."""
        return register_agents(super().configure_worker(config), [self.agent])


def register_agents(config: WorkerConfig, agents: Iterable[TemporalAgent[Any, Any]]) -> WorkerConfig:
    """Add the activities of `agents` to a worker's config, each once (by activity name and function).

    Raises:
        DurableNameError: Two different activities would have one name: two agents share a name.
    """
    settings: dict[str, Any] = dict(config)
    activities: list[Callable[..., Any]] = list(settings.get('activities') or [])
    by_name = {name: function for function in activities if (name := _activity_name(function)) is not None}
    for agent in agents:
        for name, function in agent.activities_by_name.items():
            known = by_name.setdefault(name, function)
            if known is not function:
                raise DurableNameError(
                    f'Two different TemporalAgents both have the activity {name!r} (or another activity has its '
                    "name): their runs would call each other's activities. Give each agent its own name: "
                    "Agent(..., name='...') or TemporalAgent(agent, name='...')."
                )
            activities.append(function)
    config['activities'] = list(dict.fromkeys(activities))
    return config


def _activity_name(function: Callable[..., Any]) -> str | None:
    """The name Temporal registers an activity function under (None for a function it would refuse)."""
    definition: Any = getattr(function, '__temporal_activity_definition', None)
    return None if definition is None else str(definition.name)
