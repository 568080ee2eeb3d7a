"""Drop-in program: a history replays with the stock Pydantic converter (`temporalio.contrib.pydantic`).

The agent has a dynamic toolset with instructions; it is a `TemporalAgent` or has `TemporalDurability`, by the
selected form. Its workflow runs on a worker of the plugin's client; its history
is then replayed by a `Replayer` without the plugin, with `data_converter=pydantic_data_converter` (as PydanticAI's
docs set it up) and a sandbox passing through what 2.68's plugin does and the implementation. Observed: the
workflow's output, and that it replayed (a replay failure fails the program).
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import IMPLEMENTATIONS, api, capabilities, durable, form
    from _temporal_dropin_passthrough import pai_passthrough_modules
    from pydantic_ai import Agent, RunContext
    from pydantic_ai.models.test import TestModel
    from pydantic_ai.toolsets import DynamicToolset, FunctionToolset
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer, Worker
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions


async def instructed(ctx: RunContext[None]) -> FunctionToolset[None]:
    async def lookup(key: str) -> str:
        return f'{key} found'

    return FunctionToolset([lookup], instructions='Look things up with `lookup`.')


if form == 'capability':
    # 2.68's capability refuses a toolset added after the agent is built (`@agent.toolset`), naming this fix.
    replayed = Agent(
        TestModel(),
        name='dropin_replay',
        toolsets=[DynamicToolset(instructed, id='instructed')],
        capabilities=capabilities(),
    )
else:
    agent = Agent(TestModel(), name='dropin_replay')
    agent.toolset(id='instructed')(instructed)
    replayed = durable(agent)


@workflow.defn
class ReplayWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [replayed]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await replayed.run(prompt)).output


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    async with Worker(client, task_queue=task_queue, workflows=[ReplayWorkflow]):
        handle = await client.start_workflow(
            ReplayWorkflow.run, 'Look up x', id=f'dropin-replay-{uuid.uuid4()}', task_queue=task_queue
        )
        output = await handle.result()
    history = await handle.fetch_history()
    # 2.68's passthrough list (read from its source), and the implementations.
    passthrough = [*pai_passthrough_modules(), 'durable_core', *IMPLEMENTATIONS.values(), '_temporal_dropin_api']
    runner = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough))
    replayer = Replayer(workflows=[ReplayWorkflow], data_converter=pydantic_data_converter, workflow_runner=runner)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    if result.replay_failure is not None:
        raise result.replay_failure
    return {'output': output, 'replayed': True}
