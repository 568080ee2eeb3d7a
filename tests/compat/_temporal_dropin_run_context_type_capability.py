"""Drop-in program, capability form of `run_context_type`: a tool's context in an activity, `run_context_type=`.

The agent has `TemporalDurability(run_context_type=TemporalRunContext)` (2.68's default, and the only one ours
accepts); its tool reports whether its context is a `TemporalRunContext` and the deps it carries. Observed: the
run's output.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api
    from pydantic_ai import Agent, RunContext
    from pydantic_ai.models.test import TestModel
    from temporalio.client import Client
    from temporalio.worker import Worker


async def context_type(ctx: RunContext[str]) -> str:
    return f'{isinstance(ctx, api.TemporalRunContext)} {ctx.deps}'


agent = Agent(
    TestModel(),
    name='dropin_ctx_type',
    deps_type=str,
    tools=[context_type],
    capabilities=[api.TemporalDurability(run_context_type=api.TemporalRunContext)],
)


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
