"""`TracingPlugin`: OpenTelemetry spans for workflows and activities, without logfire, replay-safe."""

from __future__ import annotations

from durable_core import DurableUsageError
from opentelemetry.trace import Tracer
from temporalio.plugin import SimplePlugin

__all__ = ['TracingPlugin']


class TracingPlugin(SimplePlugin):
    """Traces workflows and activities with OpenTelemetry, using Temporal's `TracingInterceptor`.

    The client gets a span for each workflow it starts, signals or updates; the worker a span for each workflow
    run and each activity attempt (`RunActivity:geography.model_request`, ...), linked into one trace across
    processes through Temporal headers. A workflow's spans are only created when its code runs for the first
    time, never when a worker replays its history, so recovery and cache eviction do not duplicate them. Any
    OpenTelemetry SDK or exporter works; logfire is not needed (point `logfire.configure()` at it if you like).

    Attach it to the client next to `PydanticAIPlugin`; the worker inherits it. It needs the OpenTelemetry
    SDK, which Temporal's integration imports: `pip install 'durable-temporal[opentelemetry]'`.

    Example:
        ```python
        import asyncio
        import os
        import uuid

        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from pydantic_ai import Agent
        from temporalio import workflow
        from temporalio.client import Client
        from temporalio.worker import Worker

        from durable_temporal import PydanticAIPlugin, PydanticAIWorkflow, TemporalAgent, TracingPlugin

        # OpenAI when OPENAI_API_KEY is set; otherwise PydanticAI's TestModel ('test') answers, offline.
        model = 'openai:gpt-6.1-sol' if os.environ.get('OPENAI_API_KEY') else 'test'
        temporal_agent = TemporalAgent(Agent(model, name='traced'))


        @workflow.defn
        class TracedWorkflow(PydanticAIWorkflow):
            __pydantic_ai_agents__ = [temporal_agent]

            @workflow.run
            async def run(self, prompt: str) -> str:
                return (await temporal_agent.run(prompt)).output


        async def main() -> None:
            # In production, export to your collector instead: BatchSpanProcessor(OTLPSpanExporter()).
            exporter = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            client = await Client.connect(
                os.environ.get('TEMPORAL_ADDRESS', 'localhost:7233'),
                plugins=[PydanticAIPlugin(), TracingPlugin(provider.get_tracer('my-app'))],
            )
            async with Worker(client, task_queue='traced', workflows=[TracedWorkflow]):  # inherits the plugins
                await client.execute_workflow(
                    TracedWorkflow.run,
                    'What is the capital of Mexico?',
                    id=f'traced-{uuid.uuid4()}',
                    task_queue='traced',
                )
            print(sorted({span.name for span in exporter.get_finished_spans()}))  # StartWorkflow:..., RunActivity:...


        if __name__ == '__main__':  # the workflow sandbox imports this module again: guard the entry point
            asyncio.run(main())
        ```
    """

    def __init__(self, tracer: Tracer | None = None, *, always_create_workflow_spans: bool = True) -> None:
        """Create the plugin.

        Args:
            tracer: The tracer to make spans with; by default OpenTelemetry's global tracer provider's.
            always_create_workflow_spans: Make workflow spans even when the workflow was not started under a
                span of a traced client (from the CLI, a schedule, another process). Temporal's own default is
                `False`; this plugin's is `True`, so every workflow run is traced.

        Raises:
            DurableUsageError: If the OpenTelemetry SDK is not installed.
        """
        try:  # Temporal's integration imports the OpenTelemetry SDK, which only tracing needs
            from temporalio.contrib.opentelemetry import TracingInterceptor
        except ImportError as error:
            raise DurableUsageError(
                f'TracingPlugin needs the OpenTelemetry SDK ({error}): '
                "pip install 'durable-temporal[opentelemetry]' (or opentelemetry-sdk)."
            ) from error
        super().__init__(  # pyright: ignore[reportUnknownMemberType]
            'durable_temporal.TracingPlugin',
            interceptors=[TracingInterceptor(tracer, always_create_workflow_spans=always_create_workflow_spans)],
        )
