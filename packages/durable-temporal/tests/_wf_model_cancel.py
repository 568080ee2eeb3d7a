"""The agent and workflow of test_model_cancel.py, in a module pytest does not rewrite (the sandbox re-imports it)."""

from __future__ import annotations

from durable_core.testing import BackgroundJobModel
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent, UsageLimitExceeded
from pydantic_ai.usage import UsageLimits
from temporalio import workflow

background_model = BackgroundJobModel()
cancel_temporal = TemporalAgent(Agent(background_model, name='cancel_job'))


@workflow.defn
class BackgroundJobWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [cancel_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        # The job's first segment already exceeds the limit: PydanticAI gives up on it and cancels it.
        try:
            await cancel_temporal.run(prompt, usage_limits=UsageLimits(output_tokens_limit=10))
        except UsageLimitExceeded as error:
            return f'gave up: {type(error).__name__}'
        return 'finished'
