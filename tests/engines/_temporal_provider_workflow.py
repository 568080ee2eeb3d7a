"""The workflow of temporal_provider.py: one run of the provider agent (`_provider.provider_agent`).

The workflow sandbox imports this module again for every workflow run and builds the agent there too; that copy
sends no request (every model request is an activity, run on the worker's copy). The worker's copy talks to the
server whose URL temporal_provider.py puts in the environment before importing this module.
"""

from __future__ import annotations

import os

from durable_core import StepPolicy
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _provider import provider_agent

with workflow.unsafe.sandbox_unrestricted():
    _BASE_URL = os.environ.get('DURABLE_TESTS_PROVIDER_URL', 'http://127.0.0.1:9/unused')

PROVIDER_AGENT = TemporalAgent(
    provider_agent(_BASE_URL, 'provider_temporal'),
    model_activity_config=StepPolicy(retries=8, initial_interval=0.05, backoff_coefficient=1.0, timeout=10),
)


@workflow.defn
class ProviderWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [PROVIDER_AGENT]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await PROVIDER_AGENT.run(prompt)).output
