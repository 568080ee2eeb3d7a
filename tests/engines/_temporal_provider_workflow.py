"""The workflows of temporal_provider.py: one run of the provider agent (`_provider.provider_agent`), per form.

The workflow sandbox imports this module again for every workflow run and builds the agents there too; that copy
sends no request (every model request is an activity, run on the worker's copy). The worker's copy talks to the
server whose URL temporal_provider.py puts in the environment before importing this module.
"""

from __future__ import annotations

import os

from durable_core import StepPolicy
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _provider import provider_agent

with workflow.unsafe.sandbox_unrestricted():
    _BASE_URL = os.environ.get('DURABLE_TESTS_PROVIDER_URL', 'http://127.0.0.1:9/unused')

MODEL_ACTIVITY_CONFIG = StepPolicy(retries=8, initial_interval=0.05, backoff_coefficient=1.0, timeout=10)

PROVIDER_AGENT = TemporalAgent(
    provider_agent(_BASE_URL, 'provider_temporal'), model_activity_config=MODEL_ACTIVITY_CONFIG
)

CAPABILITY_PROVIDER_AGENT = provider_agent(
    _BASE_URL,
    'provider_temporal_capability',
    # The capability with the wrapper's arguments above. `non_retryable_model_errors=()`: the wrapper's, under which
    # a timed-out request is retried (2.68's default fails it at its first attempt); a rejected one never is.
    capabilities=[TemporalDurability(model_activity_config=MODEL_ACTIVITY_CONFIG, non_retryable_model_errors=())],
)


@workflow.defn
class ProviderWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [PROVIDER_AGENT]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await PROVIDER_AGENT.run(prompt)).output


@workflow.defn
class CapabilityProviderWorkflow(PydanticAIWorkflow):
    """The capability form: the agent's own `run()`, durable because it is called in this workflow."""

    __pydantic_ai_agents__ = [CAPABILITY_PROVIDER_AGENT]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await CAPABILITY_PROVIDER_AGENT.run(prompt)).output
