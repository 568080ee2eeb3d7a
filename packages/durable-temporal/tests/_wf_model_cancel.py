"""The agent and workflow of test_model_cancel.py, in a module pytest does not rewrite (the sandbox re-imports it)."""

from __future__ import annotations

from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent, UsageLimitExceeded
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage, UsageLimits
from temporalio import workflow


class BackgroundJobModel(FunctionModel):
    """Answers with a background job still running; records each response whose job it is asked to cancel."""

    def __init__(self) -> None:
        super().__init__(self._still_running, model_name='background')
        self.requests = 0
        self.cancelled: list[ModelResponse] = []

    def _still_running(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.requests += 1
        usage = RequestUsage(output_tokens=50)
        return ModelResponse([TextPart('working')], usage=usage, provider_response_id='job-1', state='suspended')

    async def cancel_suspended_response(self, response: ModelResponse) -> None:
        self.cancelled.append(response)


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
