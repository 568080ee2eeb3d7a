"""Drop-in program: the capability form, `Agent(..., capabilities=[TemporalDurability(...)])` (issue 15).

An agent with a tool, an event handler and a registered model runs in a workflow that lists it, with its own model
and with `run(model='fast')`, and once outside any workflow. Observed: the outputs, the model requests and tool calls
counted at their source (the activities run in this process), the kinds of events the handler got, and the
activity names (2.68's and ours differ on purpose: ours are our `TemporalAgent`'s).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api
    from durable_core.testing import ScriptedModel, Step, ToolCall
    from pydantic_ai import Agent, AgentStreamEvent, RunContext
    from temporalio.client import Client
    from temporalio.worker import Worker

COUNTS = {'model': 0, 'tool': 0}
EVENTS: list[str] = []


def count_request() -> None:
    COUNTS['model'] += 1


async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in stream:
        EVENTS.append(type(event).__name__)


model = ScriptedModel(
    [
        Step(tool_calls=[ToolCall('lookup', {'key': 'a'})], before=count_request),
        Step(text='the answer', before=count_request),
    ],
    position='history',
)
fast = ScriptedModel([Step(text='fast answer', before=count_request)], model_name='fast', position='history')

agent = Agent(
    model,
    name='capability_compat',
    capabilities=[api.TemporalDurability(event_stream_handler=record, models={'fast': fast})],
)


@agent.tool_plain
async def lookup(key: str) -> str:
    COUNTS['tool'] += 1
    return f'value of {key}'


@workflow.defn
class CapabilityWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    @workflow.run
    async def run(self, model_key: str) -> str:
        return (await agent.run('look it up', model=model_key or None)).output


def observed(output: str) -> dict[str, Any]:
    seen = {'output': output, **COUNTS, 'events': sorted(set(EVENTS))}
    COUNTS.update(model=0, tool=0)
    EVENTS.clear()
    return seen


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    report: dict[str, Any] = {}
    async with Worker(client, task_queue=task_queue, workflows=[CapabilityWorkflow]):
        for part, model_key in (('in_workflow', ''), ('model_fast', 'fast')):
            handle = await client.start_workflow(
                CapabilityWorkflow.run, model_key, id=f'dropin-capability-{uuid.uuid4()}', task_queue=task_queue
            )
            report[part] = observed(await handle.result())
            history = await handle.fetch_history()
            report[f'{part}_activities'] = [
                event.activity_task_scheduled_event_attributes.activity_type.name
                for event in history.events
                if event.HasField('activity_task_scheduled_event_attributes')
            ]
    report['outside'] = observed((await agent.run('look it up')).output)
    return report
