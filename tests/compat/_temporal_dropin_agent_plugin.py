"""Drop-in program: `AgentPlugin(agent)` registers an agent that no workflow lists; registered both ways, once.

The agent is a `TemporalAgent` or has `TemporalDurability`, by the form the driver selected.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api, capabilities, durable
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel
    from temporalio.client import Client
    from temporalio.worker import Worker

GREETED: list[str] = []

agent = Agent(TestModel(), name='dropin_plugged', capabilities=capabilities())


@agent.tool_plain
async def greet(who: str) -> str:
    GREETED.append(who)
    return f'hello {who}'


durable_agent = durable(agent)


@workflow.defn
class UnlistedWorkflow:
    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await durable_agent.run(prompt)).output


@workflow.defn
class ListedWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [durable_agent]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await durable_agent.run(prompt)).output


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    observed: dict[str, Any] = {}
    async with Worker(
        client, task_queue=task_queue, workflows=[UnlistedWorkflow], plugins=[api.AgentPlugin(durable_agent)]
    ):
        observed['unlisted'] = await client.execute_workflow(
            UnlistedWorkflow.run, 'Greet', id=f'dropin-unlisted-{uuid.uuid4()}', task_queue=task_queue
        )
    both_ways = f'{task_queue}-both'
    async with Worker(
        client,
        task_queue=both_ways,
        workflows=[ListedWorkflow, UnlistedWorkflow],
        plugins=[api.AgentPlugin(durable_agent)],
    ):
        observed['both_ways'] = [
            await client.execute_workflow(workflow.run, 'Greet', id=f'dropin-both-{uuid.uuid4()}', task_queue=both_ways)
            for workflow in (ListedWorkflow, UnlistedWorkflow)
        ]
    observed['greeted'] = GREETED
    return observed
