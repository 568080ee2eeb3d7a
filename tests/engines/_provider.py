"""What the provider drivers share: an agent on the real OpenAI SDK with secrets set, and the run script.

The agent's SDK retries are off (durable-core's helper), and every model-request attempt is counted
here, at its source, so the test can compare it with the server's count of HTTP calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from durable_core import without_sdk_retries
from openai import AsyncOpenAI
from pydantic_ai import Agent
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.providers.openai import OpenAIProvider

SECRET_KEY = 'sk-test-SECRET-KEY-0123456789'
SECRET_HEADER = 'Bearer SECRET-HEADER-9876543210'


class CountedModel(WrapperModel):
    """Counts every attempt at a model request."""

    attempts = 0

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        CountedModel.attempts += 1
        return await super().request(*args, **kwargs)


def provider_agent(base_url: str, name: str, capabilities: Sequence[AbstractCapability[Any]] = ()) -> Agent[None, str]:
    """A one-tool agent whose OpenAI client sends an API key and a custom auth header (the secrets).

    `capabilities`: a durability capability, in the capability form (`Agent(..., capabilities=[...])`).
    """
    client = AsyncOpenAI(
        base_url=base_url, api_key=SECRET_KEY, default_headers={'X-Custom-Auth': SECRET_HEADER}, timeout=2.0
    )
    model = without_sdk_retries(OpenAIChatModel('gpt-4.1-mini', provider=OpenAIProvider(openai_client=client)))
    agent = Agent(CountedModel(model), name=name, capabilities=list(capabilities) or None)

    @agent.tool_plain
    def lookup(city: str) -> str:
        return f'{city}: 21 degrees'

    return agent


def _class_name(error: Exception) -> str:
    return type(error).__name__


async def drive(
    mode: str, run: Callable[[str], Awaitable[Any]], error_type: Callable[[Exception], str] = _class_name
) -> dict[str, Any]:
    """`faults`: ten runs; otherwise one run, reporting the error's type (`error_type`) if it fails."""
    if mode == 'faults':
        outputs = [(await run(f'Weather in city {n}?')).output for n in range(10)]
        return {'outputs': outputs, 'attempts': CountedModel.attempts}
    try:
        result = await run('Weather in Lisbon?')
    except Exception as error:
        return {'error_type': error_type(error), 'error': str(error)[:500], 'attempts': CountedModel.attempts}
    return {'outputs': [result.output], 'attempts': CountedModel.attempts}
