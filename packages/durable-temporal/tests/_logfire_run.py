"""Runs test_logfire.py's workflow with `LogfirePlugin`, in a process of its own (Logfire's set-up is process-wide).

Usage: _logfire_run.py TARGET REPLAY_SAFE. Logfire sends nothing anywhere: its spans go to an in-memory exporter. The
worker caches no workflow, so every workflow task replays the history from the start, and a `Replayer` replays it
once more. Prints JSON: the finished spans' names counted after the run and after the replay, and the trace IDs.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections import Counter
from typing import Any

import logfire
from _wf_agent import GeographyWorkflow
from durable_temporal import LogfirePlugin, PydanticAIPlugin
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.worker import Replayer, Worker

exporter = InMemorySpanExporter()
setups: list[logfire.Logfire] = []


def setup_logfire() -> logfire.Logfire:
    """Configures Logfire on the first call only (a second `configure()` would shut the exporter down)."""
    if not setups:
        instance = logfire.configure(
            send_to_logfire=False,
            console=False,
            metrics=False,
            additional_span_processors=[SimpleSpanProcessor(exporter)],
        )
        instance.instrument_pydantic_ai()
    setups.append(logfire.DEFAULT_LOGFIRE_INSTANCE)
    return setups[0]


def span_names() -> dict[str, int]:
    return dict(Counter(span.name for span in exporter.get_finished_spans()))


async def main(target: str, replay_safe: bool) -> dict[str, Any]:
    plugin = LogfirePlugin(setup_logfire, metrics=False, replay_safe=replay_safe)
    client = await Client.connect(target, plugins=[PydanticAIPlugin(), plugin])
    task_queue = f'logfire-{uuid.uuid4().hex}'
    async with Worker(client, task_queue=task_queue, workflows=[GeographyWorkflow], max_cached_workflows=0):
        handle = await client.start_workflow(
            GeographyWorkflow.run, 'What is the weather?', id=f'logfire-{uuid.uuid4()}', task_queue=task_queue
        )
        output = await handle.result()
    after_run = span_names()
    trace_ids = {span.context.trace_id for span in exporter.get_finished_spans() if span.context is not None}
    await Replayer(workflows=[GeographyWorkflow], plugins=[PydanticAIPlugin(), plugin]).replay_workflow(
        await handle.fetch_history()
    )
    return {
        'output': output,
        'after_run': after_run,
        'after_replay': span_names(),
        'traces': len(trace_ids),
        'setups': len(setups),
    }


if __name__ == '__main__':
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2] == 'replay-safe'))))
