"""Drop-in program: `tool_activity_config` and `toolset_activity_config` keyed by PydanticAI's `'<agent>'`.

One agent runs its tool in the workflow (`{'<agent>': {'double': False}}`); the other gives its own toolset's
activities a 7 s start-to-close timeout. In the capability form (`TemporalDurability`) the timeout is the same
`toolset_activity_config`, but the capability has no `tool_activity_config`, so the tool says it runs in the workflow
itself, `metadata={'temporal': False}` (2.68's per-tool config of the capability form). Observed: the outputs, and
the timeouts of the activities other than model requests (activity names differ between the implementations; their
kinds and configs must not).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api, capabilities, durable, form
    from pydantic_ai import Agent, Tool
    from pydantic_ai.models.test import TestModel
    from temporalio.client import Client
    from temporalio.worker import Worker


async def double(n: int) -> int:
    return 2 * n


# The capability takes no `tool_activity_config`: there a tool's own metadata keeps it in the workflow (2.68's way).
inline_tool = Tool(double, metadata={'temporal': False}) if form == 'capability' else double
inline_options = {} if form == 'capability' else {'tool_activity_config': {'<agent>': {'double': False}}}
inline = durable(
    Agent(TestModel(), name='dropin_inline', tools=[inline_tool], capabilities=capabilities(**inline_options)),
    **inline_options,
)
timed_options = {'toolset_activity_config': {'<agent>': {'start_to_close_timeout': timedelta(seconds=7)}}}
timed = durable(
    Agent(TestModel(), name='dropin_timed', tools=[double], capabilities=capabilities(**timed_options)),
    **timed_options,
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
