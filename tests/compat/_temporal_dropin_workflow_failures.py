"""Drop-in program: errors raised in workflow code that no retry can fix fail the workflow, at once, by type.

- `run_stream()` inside a workflow, on the wrapper form, is refused by both implementations (2.68 with PydanticAI's
  `UserError`, ours with `NotInDurableUnitError`, a subclass): the cause is an `ApplicationError` of type
  `UserError`, which is what code handling a failed workflow checks (issue 14, item 8). On the capability form it is
  durable with both (2.68's `TemporalDurability` streams in one model-request activity, as ours): the workflow
  succeeds.
- pydantic_graph's `Graph.run_sync()` cannot drive the workflow's event loop: its `UnsupportedEventLoopError` fails
  the workflow instead of its task being retried forever (issue 14, item 7).

Observed, per case: whether the workflow failed (within its 30 s run timeout), the cause's class and its type; or,
if it succeeded, its output and how many activities it scheduled (their names differ between the implementations).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api, capabilities, durable
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel
    from pydantic_graph import GraphBuilder, StepContext
    from temporalio.client import Client, WorkflowFailureError
    from temporalio.exceptions import ApplicationError
    from temporalio.worker import Worker


streamed = durable(Agent(TestModel(), name='dropin_run_stream', capabilities=capabilities()))

builder = GraphBuilder(input_type=int, output_type=int)


@builder.step
async def double(ctx: StepContext[None, None, int]) -> int:
    return 2 * ctx.inputs


builder.add(builder.edge_from(builder.start_node).to(double), builder.edge_from(double).to(builder.end_node))
doubling = builder.build()


@workflow.defn
class WorkflowFailuresWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [streamed]

    @workflow.run
    async def run(self, case: str) -> str:
        if case == 'graph_run_sync':
            return str(doubling.run_sync(inputs=2))
        async with streamed.run_stream('Stream it') as stream:
            return await stream.get_output()


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    observed: dict[str, Any] = {}
    async with Worker(client, task_queue=task_queue, workflows=[WorkflowFailuresWorkflow]):
        for case in ('run_stream', 'graph_run_sync'):
            try:
                handle = await client.start_workflow(
                    WorkflowFailuresWorkflow.run,
                    case,
                    id=f'dropin-{case}-{uuid.uuid4()}',
                    task_queue=task_queue,
                    run_timeout=timedelta(seconds=30),
                )
                output = await handle.result()
            except WorkflowFailureError as failure:
                cause = failure.cause
                observed[case] = {
                    'cause': type(cause).__name__,
                    'type': cause.type if isinstance(cause, ApplicationError) else None,
                }
            else:
                history = await handle.fetch_history()
                activities = sum(event.HasField('activity_task_scheduled_event_attributes') for event in history.events)
                observed[case] = {'output': output, 'activities': activities}
    return observed
