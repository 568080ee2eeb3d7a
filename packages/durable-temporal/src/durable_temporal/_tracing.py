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
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        client = await Client.connect(
            'localhost:7233', plugins=[PydanticAIPlugin(), TracingPlugin(provider.get_tracer('my-app'))]
        )
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
