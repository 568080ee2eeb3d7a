"""The agent and workflow of test_retries.py: a real OpenAI chat model against the local OpenAI-compatible server.

Import it only after setting ``DURABLE_TEMPORAL_TEST_LLM_URL`` (test_retries.py does): the workflow sandbox
imports it again for every run, and the activities use the host's model, so both must point at the server.
"""

from __future__ import annotations

import os

from durable_core import without_sdk_retries
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from temporalio import workflow

LLM_URL = os.environ.get('DURABLE_TEMPORAL_TEST_LLM_URL', 'http://127.0.0.1:9/v1')

model = without_sdk_retries(OpenAIChatModel('gpt-4o', provider=OpenAIProvider(base_url=LLM_URL, api_key='test-key')))
retries_temporal = TemporalAgent(Agent(model, name='retries'))


@workflow.defn
class RetriesWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [retries_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await retries_temporal.run(prompt)).output
