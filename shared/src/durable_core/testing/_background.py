"""A model whose responses are background jobs still running, for tests of cancelling an abandoned one."""

from __future__ import annotations

from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage


class BackgroundJobModel(FunctionModel):
    """Answers every request with a background (suspended) job still running, and records what it is asked to cancel.

    Each response already reports `output_tokens` tokens, so a run with `UsageLimits(output_tokens_limit=...)` below
    that gives up on the job, and PydanticAI calls `cancel_suspended_response` with it.
    """

    def __init__(self, *, output_tokens: int = 50, model_name: str = 'background') -> None:
        super().__init__(self._still_running, model_name=model_name)
        self.output_tokens = output_tokens
        self.requests = 0
        """Requests answered, in this process."""
        self.cancelled: list[ModelResponse] = []
        """The responses whose job this process was asked to cancel, in order."""

    def _still_running(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.requests += 1
        usage = RequestUsage(output_tokens=self.output_tokens)
        return ModelResponse(
            [TextPart('working')],
            usage=usage,
            provider_response_id='job-1',
            provider_details={'status': 'in_progress'},
            state='suspended',
        )

    async def cancel_suspended_response(self, response: ModelResponse) -> None:
        """Record the cancel (a real model would cancel the provider's job)."""
        self.cancelled.append(response)
