"""The capability form of the conformance drivers: `Agent(..., capabilities=[<Engine>Durability(...)])`.

A driver of this form sets `scenarios.CAPABILITIES`, so that every scenario agent is built with the engine's
capability, and runs each of the scenario's `agent.run(prompt, **kwargs)` in an engine container of its own (a
`@DBOS.workflow`, a Prefect `@flow`) as an application would. The container takes only a key: the run's arguments
(deps, message history, deferred tool results, ...) stay in this process and reach `agent.run` unchanged, never
serialized by the engine, and so does its result.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

import scenarios
from pydantic_ai import Agent
from pydantic_ai.agent import AgentRunResult
from scenarios import CapabilitiesFor, RunFn

FORMS = ('wrapper', 'capability')
"""A driver's first argument: `wrapper` runs `<Engine>Agent(agent).run`, `capability` the capability form."""


def parse_form(argument: str) -> str:
    """The form a driver was asked to run, refusing any other word."""
    if argument not in FORMS:
        raise SystemExit(f'the form is one of {FORMS}, not {argument!r}')
    return argument


def build_agents_with(capabilities: CapabilitiesFor) -> None:
    """From now on, every scenario agent is built with these capabilities (`scenarios.scenario_agent`)."""
    scenarios.CAPABILITIES = capabilities


class ContainedRuns:
    """Each capability-form run, handed by key to the driver's container (`container(key)`), which calls `run`."""

    def __init__(self, container: Callable[[str], Awaitable[None]]) -> None:
        self._container = container
        self._keys = itertools.count(1)
        self._pending: dict[str, tuple[Agent[Any, Any], Any, dict[str, Any]]] = {}
        self._results: dict[str, AgentRunResult[Any]] = {}
        self.containers: dict[str, list[str]] = defaultdict(list)
        """Per agent name, the ids of the containers (workflow ids, flow run ids) its runs ran in, in order."""

    def runner(self, agent: Agent[Any, Any]) -> RunFn:
        """The scenario's `run`: `agent.run(prompt, **kwargs)` in a container of its own."""

        async def run(prompt: Any, **kwargs: Any) -> AgentRunResult[Any]:
            key = f'{agent.name}:{next(self._keys)}'
            self._pending[key] = (agent, prompt, kwargs)
            await self._container(key)
            return self._results.pop(key)

        return run

    async def run(self, key: str, container_id: str) -> None:
        """The container's body: the run `key` names, recorded under `container_id`; an error propagates."""
        agent, prompt, kwargs = self._pending.pop(key)
        assert agent.name is not None
        self.containers[agent.name].append(container_id)
        self._results[key] = await agent.run(prompt, **kwargs)
