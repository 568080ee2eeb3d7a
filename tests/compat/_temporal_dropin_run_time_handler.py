"""Drop-in program, capability form only: `agent.run(prompt, event_stream_handler=handler)` in a workflow.

The wrapper refuses a handler passed to `run()` (`TemporalAgent(agent, event_stream_handler=...)` is its way); the
capability form accepts it, as 2.68's does: no capability hook sees it, `Agent.run()` applies it around each node it
streams. The agent (`TestModel`, one tool, no handler of its own) runs in a workflow whose handler, a closure over the
workflow's state, records the kind of each event it gets and whether it ran in workflow code. Observed: the output,
those events in order, the tool calls counted at their source, how many activities the run scheduled, and whether
its history replays; once on a worker that caches the workflow, once on one that replays it at each workflow task.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api
    from pydantic_ai import Agent, AgentStreamEvent, RunContext
    from pydantic_ai.models.test import TestModel
    from temporalio.client import Client
    from temporalio.worker import Replayer, Worker

TOOL_RUNS: list[str] = []

# Built in the capability form whatever form the driver selected, which then fails a run in the wrapper form.
agent = Agent(
    TestModel(custom_output_text='the answer'), name='run_time_handler_compat', capabilities=[api.TemporalDurability()]
)


@agent.tool_plain
async def lookup(key: str) -> str:
    TOOL_RUNS.append(key)
    return f'value of {key}'


@workflow.defn
class RunTimeHandlerWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    def __init__(self) -> None:
        self.events: list[str] = []
        self.in_workflow: list[bool] = []

    @workflow.run
    async def run(self, prompt: str) -> dict[str, Any]:
        async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
            async for event in stream:
                self.events.append(type(event).__name__)
                self.in_workflow.append(workflow.in_workflow())

        output = (await agent.run(prompt, event_stream_handler=record)).output
        return {'output': output, 'events': self.events, 'in_workflow': sorted(set(self.in_workflow))}


async def run_once(client: Client, task_queue: str, **worker_options: Any) -> dict[str, Any]:
    """One run of the workflow on a worker of this process: its report, with the tool calls and activities it made."""
    TOOL_RUNS.clear()
    async with Worker(client, task_queue=task_queue, workflows=[RunTimeHandlerWorkflow], **worker_options):
        handle = await client.start_workflow(
            RunTimeHandlerWorkflow.run, 'look it up', id=f'dropin-handler-{uuid.uuid4()}', task_queue=task_queue
        )
        report = await handle.result()
    history = await handle.fetch_history()
    report['tool_runs'] = len(TOOL_RUNS)
    report['activities'] = sum(event.HasField('activity_task_scheduled_event_attributes') for event in history.events)
    # The handler runs in workflow code, so a replay of the history must rebuild the same commands.
    result = await Replayer(workflows=[RunTimeHandlerWorkflow], plugins=[api.PydanticAIPlugin()]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    report['replay_failure'] = None if result.replay_failure is None else repr(result.replay_failure)
    return report


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    return {
        'cached': await run_once(client, task_queue),
        # No workflow cache: each workflow task replays the history so far, handler included, before it goes on.
        'uncached': await run_once(client, f'{task_queue}-uncached', max_cached_workflows=0),
    }
