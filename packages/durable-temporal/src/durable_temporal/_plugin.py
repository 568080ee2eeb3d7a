"""`PydanticAIPlugin`: the data converter, the agents' activities, the sandbox and the failure types."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import warnings
from collections.abc import Sequence
from typing import Any, TypeVar

from durable_core import DurableUsageError
from pydantic.errors import PydanticUserError
from pydantic_ai import UserError
from pydantic_ai.exceptions import AgentRunError
from pydantic_graph.exceptions import UnsupportedEventLoopError
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.plugin import SimplePlugin
from temporalio.worker import ReplayerConfig, WorkerConfig, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from ._agent import TemporalAgent
from ._agent_plugin import record_replayed_agents, register_agents
from ._converter import data_converter
from ._durability import temporal_agent_of
from ._failures import UserErrorInterceptor

__all__ = ['PASSTHROUGH_MODULES', 'PydanticAIPlugin']

# anyio imports its event-loop backend on first use; if that first use is workflow code, the sandbox refuses the
# backend's `threading` subclasses. Importing it here, on the host, makes the passed-through module complete.
importlib.import_module('anyio._backends._asyncio')

PASSTHROUGH_MODULES: tuple[str, ...] = (
    'durable_core',
    'durable_temporal',
    'pydantic_ai',
    'pydantic_graph',
    'pydantic',
    'pydantic_core',
    'annotated_types',
    'typing_inspection',
    'anyio',
    'sniffio',
    'httpx',
    'httpcore',
    'httpx2',
    'httpcore2',
    'truststore',
    'h11',
    'certifi',
    'idna',
    'logfire',
    'logfire_api',
    'opentelemetry',
    'openai',
    'anthropic',
    'google',
    'groq',
    'mistralai',
    'cohere',
    'mcp',
    'fastmcp',
    'genai_prices',
    'griffe',
    'jiter',
    *(
        name
        for name in (
            'pydantic_monty',
            'pydantic_ai_harness',
            'stackone_defender',
            'rich',
            'beartype',
            'attrs',
            'numpy',
            'pandas',
        )
        if importlib.util.find_spec(name) is not None
    ),
)
"""Modules the workflow sandbox imports once, from the host, instead of again for every workflow run.

PydanticAI and what it builds models and messages from: re-importing them per run is slow, and
their classes must be the host's so that values decoded in workflow code pass `isinstance` checks.
The optional ones PydanticAI imports in workflow code (`pydantic_monty` for code mode, the harness,
`rich`, `beartype` for fastmcp, `attrs`, `numpy` and `pandas` for logfire) are listed when installed.
"""

_ConfigT = TypeVar('_ConfigT', WorkerConfig, ReplayerConfig)

# Raised in workflow code, these fail the workflow: retrying the workflow task would fail the same way forever.
# `UnsupportedEventLoopError` comes from pydantic_graph's sync entry points (`Graph.run_sync()`), which cannot drive
# the workflow's event loop and do not go through PydanticAI's wrapper that turns it into a `UserError`.
_WORKFLOW_FAILURES: list[type[BaseException]] = [UserError, PydanticUserError, AgentRunError, UnsupportedEventLoopError]


def _workflow_runner(runner: WorkflowRunner | None) -> WorkflowRunner:
    if runner is None:  # pragma: no cover - Temporal always passes its default
        return SandboxedWorkflowRunner(
            restrictions=SandboxedWorkflowRunner().restrictions.with_passthrough_modules(*PASSTHROUGH_MODULES)
        )
    if not isinstance(runner, SandboxedWorkflowRunner):
        return runner
    return dataclasses.replace(runner, restrictions=runner.restrictions.with_passthrough_modules(*PASSTHROUGH_MODULES))


class PydanticAIPlugin(SimplePlugin):
    """The Temporal plugin for durable PydanticAI agents: attach it to the client (the worker inherits it).

    It installs `PydanticAIPayloadConverter` (keeping your payload codec, and your payload converter if it
    subclasses Temporal's `PydanticPayloadConverter`; another custom one is replaced with a warning),
    registers the activities of every agent listed in a workflow's `__pydantic_ai_agents__` (a `TemporalAgent`, or
    an agent with `TemporalDurability`; each once), passes PydanticAI and its dependencies through the workflow
    sandbox, and makes PydanticAI's `UserError` and `AgentRunError` (and pydantic_graph's
    `UnsupportedEventLoopError`) fail the workflow instead of retrying its task forever. Our misuse errors
    (`DurableUsageError` and its subclasses) fail it as an `ApplicationError` of type `UserError`, naming our
    class in its details, as they do in an activity.

    Example:
        ```python
        import asyncio
        import os
        import uuid

        from pydantic_ai import Agent
        from temporalio import workflow
        from temporalio.client import Client
        from temporalio.worker import Worker

        from durable_temporal import PydanticAIPlugin, PydanticAIWorkflow, TemporalAgent

        # OpenAI when OPENAI_API_KEY is set; otherwise PydanticAI's TestModel ('test') answers, offline.
        model = 'openai:gpt-6.1-sol' if os.environ.get('OPENAI_API_KEY') else 'test'
        temporal_agent = TemporalAgent(Agent(model, name='greeter'))


        @workflow.defn
        class GreetingWorkflow(PydanticAIWorkflow):
            __pydantic_ai_agents__ = [temporal_agent]

            @workflow.run
            async def run(self, name: str) -> str:
                return (await temporal_agent.run(f'Greet {name}.')).output


        async def main() -> None:
            address = os.environ.get('TEMPORAL_ADDRESS', 'localhost:7233')
            client = await Client.connect(address, plugins=[PydanticAIPlugin()])  # on the client only
            # The worker inherits the plugin from its client: no activities to list, no sandbox settings to pass.
            async with Worker(client, task_queue='greetings', workflows=[GreetingWorkflow]):
                handle = await client.start_workflow(
                    GreetingWorkflow.run, 'Ada', id=f'greeting-{uuid.uuid4()}', task_queue='greetings'
                )
                print(await handle.result())
            history = await handle.fetch_history()
            print(
                [
                    event.activity_task_scheduled_event_attributes.activity_type.name
                    for event in history.events
                    if event.HasField('activity_task_scheduled_event_attributes')
                ]
            )


        if __name__ == '__main__':  # the workflow sandbox imports this module again: guard the entry point
            asyncio.run(main())
        ```
    """

    def __init__(self) -> None:
        super().__init__(  # pyright: ignore[reportUnknownMemberType]
            'durable_temporal.PydanticAIPlugin',
            data_converter=data_converter,
            workflow_runner=_workflow_runner,
            workflow_failure_exception_types=_WORKFLOW_FAILURES,
        )

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        """Add the activities of the workflows' agents, each once, and check the client's data converter."""
        config = _with_user_error_interceptor(super().configure_worker(config))
        settings: dict[str, Any] = dict(config)
        client: Any = settings.get('client')
        if client is not None and not issubclass(
            client.data_converter.payload_converter_class, PydanticPayloadConverter
        ):
            warnings.warn(
                'PydanticAIPlugin is attached to a worker whose client does not use PydanticAIPayloadConverter, '
                'so PydanticAI values in workflow arguments and results will not convert. Attach it to the client: '
                'Client.connect(..., plugins=[PydanticAIPlugin()]).',
                UserWarning,
                stacklevel=2,
            )
        workflows: Sequence[type] = settings.get('workflows') or []
        return register_agents(
            config, [agent for workflow_class in workflows for agent in _listed_agents(workflow_class)]
        )

    def configure_replayer(self, config: ReplayerConfig) -> ReplayerConfig:
        """Replay workflow code as a worker runs it: with the converter, sandbox and interceptor of a worker."""
        config = _with_user_error_interceptor(super().configure_replayer(config))
        replayer_settings: dict[str, Any] = dict(config)
        workflows: Sequence[type] = replayer_settings.get('workflows') or []
        record_replayed_agents([agent for workflow_class in workflows for agent in _listed_agents(workflow_class)])
        return config


def _with_user_error_interceptor(config: _ConfigT) -> _ConfigT:
    settings: dict[str, Any] = dict(config)
    interceptors: list[Any] = list(settings.get('interceptors') or [])
    if not any(isinstance(interceptor, UserErrorInterceptor) for interceptor in interceptors):
        interceptors.append(UserErrorInterceptor())
    config['interceptors'] = interceptors
    return config


def _listed_agents(workflow_class: type) -> Sequence[TemporalAgent[Any, Any]]:
    agents: Any = getattr(workflow_class, '__pydantic_ai_agents__', ())
    if not isinstance(agents, Sequence) or isinstance(agents, str):
        raise DurableUsageError(
            f'{workflow_class.__qualname__}.__pydantic_ai_agents__ must be a list of TemporalAgent (or of agents '
            f'with TemporalDurability), got {type(agents).__name__}.'
        )
    checked: list[TemporalAgent[Any, Any]] = []
    for agent in agents:  # pyright: ignore[reportUnknownVariableType]
        temporal_agent = temporal_agent_of(agent)  # pyright: ignore[reportUnknownArgumentType]
        if temporal_agent is None:
            raise DurableUsageError(
                f'{workflow_class.__qualname__}.__pydantic_ai_agents__ lists {agent!r}, which is neither a '
                'TemporalAgent nor an agent with TemporalDurability: wrap it first, TemporalAgent(agent), or give '
                "it the capability, Agent(..., name='x', capabilities=[TemporalDurability()])."
            )
        checked.append(temporal_agent)
    return checked
