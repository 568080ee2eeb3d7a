"""`TracingPlugin`: OpenTelemetry spans of workflows and activities, none duplicated by replays.

Spans go to the OpenTelemetry SDK's in-memory exporter. The worker caches no workflow, so each workflow task
replays the history from the start; spans made during those replays, or by the `Replayer`, would show up twice.
"""

from __future__ import annotations

import sys
import uuid
from collections import Counter

import pytest
from _wf_agent import GeographyWorkflow
from durable_core import DurableUsageError
from durable_core.testing import TemporalDevServer
from durable_temporal import PydanticAIPlugin, TracingPlugin
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.worker import Replayer, Worker

EXPECTED = Counter(
    {
        'StartWorkflow:GeographyWorkflow': 1,
        'RunWorkflow:GeographyWorkflow': 1,
        'StartActivity:geography.model_request': 2,
        'RunActivity:geography.model_request': 2,
        'StartActivity:geography.tool_call.agent.get_weather': 1,
        'RunActivity:geography.tool_call.agent.get_weather': 1,
        'CompleteWorkflow:GeographyWorkflow': 1,
    }
)


async def test_workflow_and_activity_spans_once_each(temporal_dev_server: TemporalDevServer, task_queue: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer('durable-temporal-tests')
    client = await Client.connect(temporal_dev_server.target, plugins=[PydanticAIPlugin(), TracingPlugin(tracer)])
    async with Worker(client, task_queue=task_queue, workflows=[GeographyWorkflow], max_cached_workflows=0):
        handle = await client.start_workflow(
            GeographyWorkflow.run, 'What is the weather?', id=f'traced-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'It is sunny in Mexico City.'
    spans = exporter.get_finished_spans()
    assert Counter(span.name for span in spans) == EXPECTED
    assert len({span.context.trace_id for span in spans if span.context is not None}) == 1  # one trace

    replayer = Replayer(workflows=[GeographyWorkflow], plugins=[PydanticAIPlugin(), TracingPlugin(tracer)])
    await replayer.replay_workflow(await handle.fetch_history())
    assert Counter(span.name for span in exporter.get_finished_spans()) == EXPECTED


def test_without_the_opentelemetry_sdk_the_error_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # A `None` entry makes the import fail as it does when the SDK is not installed.
    monkeypatch.setitem(sys.modules, 'temporalio.contrib.opentelemetry', None)
    with pytest.raises(DurableUsageError, match=r"pip install 'durable-temporal\[opentelemetry\]'"):
        TracingPlugin()
