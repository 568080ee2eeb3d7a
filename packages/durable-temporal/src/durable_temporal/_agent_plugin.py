"""`AgentPlugin`: one agent's activities on a worker, and the registration both plugins share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from durable_core import DurableNameError, DurableUsageError
from pydantic_ai.agent import AbstractAgent
from temporalio.plugin import SimplePlugin
from temporalio.worker import ReplayerConfig, WorkerConfig

from ._agent import TemporalAgent
from ._agent_run import AgentRunWorkflow, load_messages
from ._durability import temporal_agent_of, temporal_durability_of
from ._model_strings import start_first_build
from ._registry import record_registered

__all__ = ['AgentPlugin', 'record_replayed_agents', 'register_agents']


class AgentPlugin(SimplePlugin):
    """A worker plugin that registers one agent's activities, without listing it on a workflow.

    The agent is a `TemporalAgent`, or a plain agent with `TemporalDurability` (its wrapper's activities).

    For workflows that run an agent they do not list in `__pydantic_ai_agents__` (one chosen at run time, or
    one a library's workflow runs). Keep `PydanticAIPlugin` on the client: it installs the data converter and
    the sandbox settings the activities need. An agent registered both ways, or by two `AgentPlugin`s, is
    registered once; two different agents whose activities have the same names are refused.

    Example:
        ```python
        import asyncio
        import os
        import uuid

        from pydantic_ai import Agent
        from temporalio import workflow
        from temporalio.client import Client
        from temporalio.worker import Worker

        from durable_temporal import AgentPlugin, PydanticAIPlugin, TemporalAgent

        # OpenAI when OPENAI_API_KEY is set; otherwise PydanticAI's TestModel ('test') answers, offline.
        model = 'openai:gpt-6.1-sol' if os.environ.get('OPENAI_API_KEY') else 'test'
        temporal_agent = TemporalAgent(Agent(model, name='support'))


        @workflow.defn
        class SupportWorkflow:  # lists no agent: the worker's AgentPlugin registers the activities
            @workflow.run
            async def run(self, question: str) -> str:
                return (await temporal_agent.run(question)).output


        async def main() -> None:
            address = os.environ.get('TEMPORAL_ADDRESS', 'localhost:7233')
            client = await Client.connect(address, plugins=[PydanticAIPlugin()])  # still needed, on the client
            plugin = AgentPlugin(temporal_agent)  # registers the agent's activities on this worker
            async with Worker(client, task_queue='support', workflows=[SupportWorkflow], plugins=[plugin]):
                output = await client.execute_workflow(
                    SupportWorkflow.run,
                    'How do I reset my password?',
                    id=f'support-{uuid.uuid4()}',
                    task_queue='support',
                )
            print(output)


        if __name__ == '__main__':  # the workflow sandbox imports this module again: guard the entry point
            asyncio.run(main())
        ```
    """

    def __init__(self, agent: TemporalAgent[Any, Any] | AbstractAgent[Any, Any]) -> None:
        """Register the activities of `agent` on the workers this plugin is attached to.

        Args:
            agent: The `TemporalAgent` whose activities to register (`agent.temporal_activities`), or an agent with
                `TemporalDurability` (the activities of its `temporal_agent`, built when a worker is configured, so
                after every `@agent.tool`).

        Raises:
            DurableUsageError: `agent` is neither a `TemporalAgent` nor an agent with `TemporalDurability`.
        """
        if not isinstance(agent, TemporalAgent) and temporal_durability_of(agent) is None:
            raise DurableUsageError(
                f'AgentPlugin takes a TemporalAgent or an agent with TemporalDurability, got {type(agent).__name__}: '
                'wrap the agent first, AgentPlugin(TemporalAgent(agent)), or give it the capability, Agent(..., '
                "name='x', capabilities=[TemporalDurability()])."
            )
        self.agent = agent
        super().__init__('durable_temporal.AgentPlugin')  # pyright: ignore[reportUnknownMemberType]

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        """Add the agent's activities, skipping those already registered."""
        return register_agents(super().configure_worker(config), [self.agent])

    def configure_replayer(self, config: ReplayerConfig) -> ReplayerConfig:
        """Let a replayed run of the agent pass the check that its worker registered it."""
        record_replayed_agents([self.agent])
        return super().configure_replayer(config)


def register_agents(config: WorkerConfig, agents: Iterable[object]) -> WorkerConfig:
    """Add the activities of `agents` to a worker's config, each once (by activity name and function).

    An agent is a `TemporalAgent` or an agent with `TemporalDurability`.

    Raises:
        DurableNameError: Two different activities would have one name: two agents share a name.
    """
    settings: dict[str, Any] = dict(config)
    activities: list[Callable[..., Any]] = list(settings.get('activities') or [])
    by_name = {name: function for function in activities if (name := _activity_name(function)) is not None}
    task_queue: str | None = settings.get('task_queue')
    for listed in agents:
        agent = _temporal_agent(listed)
        record_registered(agent, task_queue)
        if isinstance(agent.wrapped.model, str):
            # The capability form's agent keeps its model string until a run builds it in workflow code: import its
            # provider's SDK now, on a thread, so that the worker's first workflow task seldom waits for it.
            start_first_build(agent.wrapped.model)
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
    if any(_temporal_agent(listed).continues_as_new_by_itself for listed in agents):
        workflows: list[type] = list(settings.get('workflows') or [])
        if AgentRunWorkflow not in workflows:
            config['workflows'] = [*workflows, AgentRunWorkflow]
        config['activities'] = list(dict.fromkeys([*config['activities'], load_messages]))
    return config


def record_replayed_agents(agents: Iterable[object]) -> None:
    """Note that a replayer runs the workflows of `agents`: a replayed run of each passes the registration check."""
    for agent in agents:
        record_registered(_temporal_agent(agent), None)


def _temporal_agent(agent: object) -> TemporalAgent[Any, Any]:
    temporal_agent = temporal_agent_of(agent)
    if temporal_agent is None:
        raise DurableUsageError(
            f'{agent!r} is neither a TemporalAgent nor an agent with TemporalDurability: wrap it, '
            'TemporalAgent(agent), or give it the capability, Agent(..., capabilities=[TemporalDurability()]).'
        )
    return temporal_agent


def _activity_name(function: Callable[..., Any]) -> str | None:
    """The name Temporal registers an activity function under (None for a function it would refuse)."""
    definition: Any = getattr(function, '__temporal_activity_definition', None)
    return None if definition is None else str(definition.name)
