"""`LogfirePlugin`: Logfire traces (and Temporal's metrics) for workflows and activities, replay-safe.

It needs `logfire`, which durable-temporal does not install: `pip install 'durable-temporal[logfire]'`. Without it,
building the plugin raises at once, naming that command, and nothing is installed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from durable_core import DurableUsageError
from temporalio.plugin import SimplePlugin
from temporalio.runtime import OpenTelemetryConfig, Runtime, TelemetryConfig
from temporalio.service import ConnectConfig, ServiceClient

if TYPE_CHECKING:
    from logfire import Logfire
    from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
    from temporalio.client import ClientConfig
    from temporalio.worker import ReplayerConfig, WorkerConfig

__all__ = ['LogfireMissingError', 'LogfirePlugin']

INSTALL_HINT = "pip install 'durable-temporal[logfire]' (or pip install logfire)"


class LogfireMissingError(DurableUsageError, ImportError):
    """`LogfirePlugin` was built where `logfire` is not installed. Also an `ImportError`, as PydanticAI 2.68's is."""


class LogfirePlugin(SimplePlugin):
    """Sends traces of workflows, activities and agent runs to Logfire; attach it to the client.

    The client gets a span for each workflow it starts, the worker one for each workflow run and activity attempt
    (Temporal's `TracingInterceptor`), and PydanticAI's agent-run, model-request and tool spans nest under them. With
    `replay_safe` (the default), spans made in workflow code are only ended when the code runs for the first time,
    not when a worker replays its history, and get IDs from the workflow's deterministic random: recovery and cache
    eviction do not duplicate them. With `metrics` (the default), Temporal's own metrics go to Logfire too, when
    Logfire sends data and has a write token.

    Without `setup_logfire`, the plugin uses Logfire as you configured it. If you have not, it calls
    `logfire.configure()` and `logfire.instrument_pydantic_ai()` once; if you have, it leaves PydanticAI's
    instrumentation as you set it (call `logfire.instrument_pydantic_ai()` yourself to get agent spans).

    Example:
        ```python
        import asyncio
        import os
        import uuid

        import logfire
        from pydantic_ai import Agent
        from temporalio import workflow
        from temporalio.client import Client
        from temporalio.worker import Worker

        from durable_temporal import LogfirePlugin, PydanticAIPlugin, PydanticAIWorkflow, TemporalAgent

        # OpenAI when OPENAI_API_KEY is set; otherwise PydanticAI's TestModel ('test') answers, offline.
        model = 'openai:gpt-6.1-sol' if os.environ.get('OPENAI_API_KEY') else 'test'
        temporal_agent = TemporalAgent(Agent(model, name='logged'))


        @workflow.defn
        class LoggedWorkflow(PydanticAIWorkflow):
            __pydantic_ai_agents__ = [temporal_agent]

            @workflow.run
            async def run(self, prompt: str) -> str:
                return (await temporal_agent.run(prompt)).output


        async def main() -> None:
            # Sent to Logfire when LOGFIRE_TOKEN is set; otherwise the spans are only printed to the console.
            logfire.configure(send_to_logfire='if-token-present')
            logfire.instrument_pydantic_ai()
            client = await Client.connect(
                os.environ.get('TEMPORAL_ADDRESS', 'localhost:7233'), plugins=[PydanticAIPlugin(), LogfirePlugin()]
            )
            async with Worker(client, task_queue='logged', workflows=[LoggedWorkflow]):  # inherits the plugins
                output = await client.execute_workflow(
                    LoggedWorkflow.run,
                    'What is the capital of Mexico?',
                    id=f'logged-{uuid.uuid4()}',
                    task_queue='logged',
                )
            print(output)


        if __name__ == '__main__':  # the workflow sandbox imports this module again: guard the entry point
            asyncio.run(main())
        ```
    """

    def __init__(
        self,
        setup_logfire: Callable[[], Logfire] | None = None,
        *,
        metrics: bool = True,
        metric_periodicity: timedelta = timedelta(seconds=60),
        replay_safe: bool = True,
    ) -> None:
        """Create the plugin.

        Args:
            setup_logfire: Configures Logfire (and PydanticAI's instrumentation) and returns the Logfire instance to
                use. With `replay_safe`, it is called once, the first time the plugin needs the instance (a
                `logfire.configure()` in it would otherwise reset Logfire at every client, worker and replayer).
                By default: Logfire as configured, configuring it first if it is not.
            metrics: Whether to send Temporal's metrics to Logfire (set on the client's runtime when it connects).
            metric_periodicity: How often to export Temporal's metrics.
            replay_safe: Whether spans made in workflow code are left out when a worker replays history. It
                applies to the instance `setup_logfire` returns too.

        Raises:
            LogfireMissingError: If `logfire` (or the OpenTelemetry SDK it brings) is not installed.
        """
        try:
            import logfire  # noqa: F401  # pyright: ignore[reportUnusedImport]
            from opentelemetry.trace import get_tracer
            from temporalio.contrib.opentelemetry import TracingInterceptor
        except ImportError as error:
            raise LogfireMissingError(f'LogfirePlugin needs logfire ({error}): {INSTALL_HINT}.') from error
        self.setup_logfire = setup_logfire
        self.metrics = metrics
        self.metric_periodicity = metric_periodicity
        self.replay_safe = replay_safe
        self._logfire: Logfire | None = None
        # Replay-safe, the interceptor's tracer is Logfire's, made once Logfire is set up (see `_setup`).
        super().__init__(  # pyright: ignore[reportUnknownMemberType]
            'durable_temporal.LogfirePlugin',
            interceptors=[] if replay_safe else [TracingInterceptor(get_tracer('temporalio'))],
        )

    def configure_client(self, config: ClientConfig) -> ClientConfig:
        """Set Logfire up (replay-safe) before the client's interceptors are read."""
        self._setup()
        return super().configure_client(config)

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        """Set Logfire up (replay-safe) again: a `logfire.configure()` since the client's replaces the provider."""
        self._setup()
        return super().configure_worker(config)

    def configure_replayer(self, config: ReplayerConfig) -> ReplayerConfig:
        """Set Logfire up (replay-safe) for a replayer: a replay then makes no spans of workflow code."""
        self._setup()
        return super().configure_replayer(config)

    async def connect_service_client(
        self, config: ConnectConfig, next: Callable[[ConnectConfig], Awaitable[ServiceClient]]
    ) -> ServiceClient:
        """Send Temporal's metrics to Logfire, when `metrics` is on and Logfire sends data with a write token."""
        instance = self._setup()
        if self.metrics:
            logfire_config: Any = instance.config
            token: Any = logfire_config.token
            if logfire_config.send_to_logfire and isinstance(token, str) and logfire_config.metrics is not False:
                base_url: str = logfire_config.advanced.generate_base_url(token)
                config.runtime = Runtime(
                    telemetry=TelemetryConfig(
                        metrics=OpenTelemetryConfig(
                            url=f'{base_url}/v1/metrics',
                            headers={'Authorization': f'Bearer {token}'},
                            metric_periodicity=self.metric_periodicity,
                        )
                    )
                )
        return await next(config)

    def _instance(self) -> Logfire:
        if self.setup_logfire is None:
            return _default_logfire()
        if not self.replay_safe:
            return self.setup_logfire()
        if self._logfire is None:
            self._logfire = self.setup_logfire()
        return self._logfire

    def _setup(self) -> Logfire:
        instance = self._instance()
        if not self.replay_safe:
            return instance
        _make_replay_safe(instance)
        if not self.interceptors:
            from temporalio.contrib.opentelemetry import TracingInterceptor

            # Logfire's proxy tracer follows the provider it is given later, so one interceptor serves every hook.
            self.interceptors = [TracingInterceptor(instance.config.get_tracer_provider().get_tracer('temporalio'))]
        return instance


def _configured_provider(instance: Logfire) -> SDKTracerProvider | None:
    """The SDK tracer provider inside Logfire's proxy: there is one once `logfire.configure()` has run."""
    from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider

    provider: Any = instance.config.get_tracer_provider().provider
    return provider if isinstance(provider, SDKTracerProvider) else None


def _default_logfire() -> Logfire:
    import logfire

    instance = logfire.DEFAULT_LOGFIRE_INSTANCE
    # `logfire.configure()` resets everything the host configured, so it only runs when nothing was; then the
    # plugin owns the set-up and instruments PydanticAI too. A host that configured Logfire keeps its own choice.
    if _configured_provider(instance) is None:
        instance = logfire.configure()
        instance.instrument_pydantic_ai()
    return instance


def _make_replay_safe(instance: Logfire) -> None:
    """Put a replay-safe provider inside Logfire's proxy, so every tracer Logfire hands out (even earlier) uses it."""
    from ._replay_safe_provider import ReplaySafeSDKTracerProvider

    provider = _configured_provider(instance)
    if provider is not None and not isinstance(provider, ReplaySafeSDKTracerProvider):
        instance.config.get_tracer_provider().set_provider(ReplaySafeSDKTracerProvider(provider))
