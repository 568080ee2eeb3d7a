"""Drop-in program: `LogfirePlugin` traces a workflow, its activities and its agent run once, although replayed.

The agent is a `TemporalAgent` or has `TemporalDurability`, by the form the driver selected.

Logfire sends nothing anywhere: `setup_logfire` configures it with an in-memory exporter and instruments PydanticAI.
The plugin goes on a client next to the PydanticAI plugin; the worker caches no workflow, so every workflow task
replays the history from the start, and a `Replayer` with the same plugins replays it once more. Span names of
activities differ between the implementations (their activity names do), so observed are: the output, how many
agent-run and workflow-run spans were made after the run and after the replay, the number of traces, and how often
`setup_logfire` was called (issue 14, item 2).
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import logfire
    from _temporal_dropin_api import api, capabilities, durable
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel
    from temporalio.client import Client
    from temporalio.worker import Replayer, Worker


agent = Agent(TestModel(), name='dropin_logfire', capabilities=capabilities())


@agent.tool_plain
def lookup(key: str) -> str:
    return f'{key} found'


traced = durable(agent)
exporter = InMemorySpanExporter()
setups: list[logfire.Logfire] = []


def setup_logfire() -> logfire.Logfire:
    setups.append(
        logfire.configure(
            send_to_logfire=False,
            console=False,
            metrics=False,
            additional_span_processors=[SimpleSpanProcessor(exporter)],
        )
    )
    setups[-1].instrument_pydantic_ai()
    return setups[-1]


@workflow.defn
class LogfireWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [traced]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await traced.run(prompt)).output


def _counted() -> dict[str, int]:
    names = Counter(span.name for span in exporter.get_finished_spans())
    return {name: names[name] for name in ('invoke_agent dropin_logfire', 'RunWorkflow:LogfireWorkflow')}


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    plugin = api.LogfirePlugin(setup_logfire, metrics=False)
    traced_client = await Client.connect(
        client.service_client.config.target_host, plugins=[api.PydanticAIPlugin(), plugin]
    )
    async with Worker(traced_client, task_queue=task_queue, workflows=[LogfireWorkflow], max_cached_workflows=0):
        handle = await traced_client.start_workflow(
            LogfireWorkflow.run, 'Look up x', id=f'dropin-logfire-{uuid.uuid4()}', task_queue=task_queue
        )
        output = await handle.result()
    after_run = _counted()
    traces = {span.context.trace_id for span in exporter.get_finished_spans() if span.context is not None}
    replayer = Replayer(workflows=[LogfireWorkflow], plugins=[api.PydanticAIPlugin(), plugin])
    await replayer.replay_workflow(await handle.fetch_history())
    return {
        'output': output,
        'after_run': after_run,
        'after_replay': _counted(),
        'traces': len(traces),
        'setups': len(setups),
    }
