"""Drop-in program, capability form of `agent_toolset_id`: the agent's own tools configured with `TemporalDurability`.

One agent runs its tool in the workflow: the capability has no `tool_activity_config`, so its tool says so itself,
`metadata={'temporal': False}` (2.68's per-tool config of the capability form); the other gives its own toolset's
activities a 7 s start-to-close timeout, `toolset_activity_config={'<agent>': ...}` as the wrapper's. Observed: the
outputs, and the timeouts of the activities other than model requests (activity names differ between the
implementations; their kinds and configs must not).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api
    from pydantic_ai import Agent, Tool
    from pydantic_ai.models.test import TestModel
    from temporalio.client import Client
    from temporalio.worker import Worker


async def double(n: int) -> int:
    return 2 * n


inline = Agent(
    TestModel(),
    name='dropin_inline',
    tools=[Tool(double, metadata={'temporal': False})],
    capabilities=[api.TemporalDurability()],
)
timed = Agent(
    TestModel(),
    name='dropin_timed',
    tools=[double],
    capabilities=[
        api.TemporalDurability(toolset_activity_config={'<agent>': {'start_to_close_timeout': timedelta(seconds=7)}})
    ],
)


@workflow.defn
class AgentToolsetIdWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [inline, timed]

    @workflow.run
    async def run(self, which: str) -> str:
        return (await (inline if which == 'inline' else timed).run('Double it')).output


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    observed: dict[str, Any] = {}
    async with Worker(client, task_queue=task_queue, workflows=[AgentToolsetIdWorkflow]):
        for which in ('inline', 'timed'):
            handle = await client.start_workflow(
                AgentToolsetIdWorkflow.run, which, id=f'dropin-{which}-{uuid.uuid4()}', task_queue=task_queue
            )
            output = await handle.result()
            history = await handle.fetch_history()
            timeouts = [
                event.activity_task_scheduled_event_attributes.start_to_close_timeout.ToTimedelta().total_seconds()
                for event in history.events
                if event.HasField('activity_task_scheduled_event_attributes')
                and 'model_request' not in event.activity_task_scheduled_event_attributes.activity_type.name
            ]
            observed[which] = {'output': output, 'tool_activity_timeouts': timeouts}
    return observed
