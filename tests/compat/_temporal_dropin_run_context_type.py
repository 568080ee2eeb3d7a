"""Drop-in program: `TemporalRunContext` is the context a tool gets in an activity; `run_context_type=` takes it.

The agent is wrapped with 2.68's `run_context_type=TemporalRunContext`, or has
`TemporalDurability(run_context_type=TemporalRunContext)`, by the selected form (2.68's default, and the only one ours
accepts); its tool reports whether its context is a `TemporalRunContext` and the deps it carries. Observed: the
run's output.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api, capabilities, durable
    from pydantic_ai import Agent, RunContext
    from pydantic_ai.models.test import TestModel
    from temporalio.client import Client
    from temporalio.worker import Worker


async def context_type(ctx: RunContext[str]) -> str:
    return f'{isinstance(ctx, api.TemporalRunContext)} {ctx.deps}'


options = {'run_context_type': api.TemporalRunContext}
plain = Agent(
    TestModel(), name='dropin_ctx_type', deps_type=str, tools=[context_type], capabilities=capabilities(**options)
)
agent = durable(plain, **options)


@workflow.defn
class RunContextTypeWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    @workflow.run
    async def run(self, deps: str) -> str:
        return (await agent.run('Which context?', deps=deps)).output


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    async with Worker(client, task_queue=task_queue, workflows=[RunContextTypeWorkflow]):
        output = await client.execute_workflow(
            RunContextTypeWorkflow.run, 'acme', id=f'dropin-ctx-{uuid.uuid4()}', task_queue=task_queue
        )
    return {'output': output}
