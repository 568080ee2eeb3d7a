"""Runs agents on Prefect against the local OpenAI-compatible server, for the fault and secrets suites.

Usage: prefect_provider.py MODE BASE_URL PREFECT_API_URL PREFECT_HOME OUT_JSON
MODE `faults`: ten runs of a model-tool-model agent while the server injects faults; SDK retries are
off, so every retry is a Prefect task retry. MODE `bad_request`: one run that the server answers with 400.
MODE `secrets`: one run with an API key and a custom header, for the test to search what Prefect stored.
Every model-request attempt is counted at its source, so the test can compare with the server's count.
Results are persisted under PREFECT_HOME (Prefect's default local result storage), which the test searches.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

mode, base_url, api_url, home, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5])
os.environ.update(
    PREFECT_API_URL=api_url,
    PREFECT_HOME=home,
    PREFECT_SERVER_ANALYTICS_ENABLED='false',
    DO_NOT_TRACK='1',
    PREFECT_LOGGING_LEVEL='ERROR',
)
os.environ.pop('PREFECT_PROFILES_PATH', None)

import asyncio  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

from durable_core import without_sdk_retries  # noqa: E402
from durable_prefect import PrefectAgent, TaskConfig  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402
from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.models.openai import OpenAIChatModel  # noqa: E402
from pydantic_ai.models.wrapper import WrapperModel  # noqa: E402
from pydantic_ai.providers.openai import OpenAIProvider  # noqa: E402

SECRET_KEY = 'sk-test-SECRET-KEY-0123456789'
SECRET_HEADER = 'Bearer SECRET-HEADER-9876543210'
attempts = 0


class CountedModel(WrapperModel):
    async def request(self, *args: Any, **kwargs: Any) -> Any:
        global attempts
        attempts += 1
        return await super().request(*args, **kwargs)


client = AsyncOpenAI(
    base_url=base_url, api_key=SECRET_KEY, default_headers={'X-Custom-Auth': SECRET_HEADER}, timeout=2.0
)
model = without_sdk_retries(OpenAIChatModel('gpt-5', provider=OpenAIProvider(openai_client=client)))
agent = Agent(CountedModel(model), name=f'provider_{mode}')


@agent.tool_plain
def lookup(city: str) -> str:
    return f'{city}: 21 degrees'


prefect_agent = PrefectAgent(agent, model_task_config=TaskConfig(retries=8, retry_delay_seconds=0.05))


async def main() -> dict[str, Any]:
    if mode == 'faults':
        outputs = [(await prefect_agent.run(f'Weather in city {n}?')).output for n in range(10)]
        return {'outputs': outputs, 'attempts': attempts}
    try:
        result = await prefect_agent.run('Weather in Lisbon?')
    except Exception as error:
        return {'error_type': type(error).__name__, 'error': str(error)[:500], 'attempts': attempts}
    return {'outputs': [result.output], 'attempts': attempts}


out.write_text(json.dumps(asyncio.run(main())))
