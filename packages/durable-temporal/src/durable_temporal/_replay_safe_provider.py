"""A replay-safe OpenTelemetry SDK tracer provider, wrapping Logfire's (imported only when `LogfirePlugin` runs).

Temporal's `ReplaySafeTracerProvider` ends no span while a worker replays history, but it is not an SDK provider,
and Logfire's proxy only forwards `force_flush()`, `shutdown()`, `add_span_processor()` and `resource` to one (a
flush would skip every span). So this SDK provider hands out Temporal's replay-safe tracers and passes the rest to
the provider it wraps, which keeps its span processors: it reads no private state of either.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
from opentelemetry.trace import Tracer
from opentelemetry.util.types import Attributes
from temporalio.contrib.opentelemetry import ReplaySafeTracerProvider, create_tracer_provider

__all__ = ['ReplaySafeSDKTracerProvider']


class ReplaySafeSDKTracerProvider(SDKTracerProvider):
    """Wraps an SDK provider: its tracers are replay-safe, and its spans get workflow-deterministic IDs."""

    def __init__(self, wrapped: SDKTracerProvider) -> None:
        """Wrap `wrapped`, giving it Temporal's ID generator (its own outside workflows, deterministic inside)."""
        # `create_tracer_provider` is Temporal's public way to wrap an ID generator in its `TemporalIdGenerator`,
        # which `ReplaySafeTracerProvider` requires of the provider it wraps; the provider it builds is not used.
        temporal_ids = create_tracer_provider(id_generator=wrapped.id_generator, shutdown_on_exit=False).id_generator()
        wrapped.id_generator = temporal_ids
        self.wrapped = wrapped
        self._replay_safe = ReplaySafeTracerProvider(wrapped, temporal_ids)
        super().__init__(
            sampler=wrapped.sampler, resource=wrapped.resource, id_generator=temporal_ids, shutdown_on_exit=False
        )

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> Tracer:
        """A replay-safe tracer of the wrapped provider."""
        return self._replay_safe.get_tracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        """Add it to the wrapped provider, whose tracers make the spans."""
        self.wrapped.add_span_processor(span_processor)

    def shutdown(self) -> None:
        """Shut the wrapped provider down."""
        self.wrapped.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped provider's span processors."""
        return self.wrapped.force_flush(timeout_millis)
