"""Runs agents on DBOS against the local OpenAI-compatible server, for the fault and secrets suites.

Usage: dbos_provider.py MODE BASE_URL DB_URL OUT_JSON
MODE `faults`: ten runs of a model-tool-model agent while the server injects faults; SDK retries are
off, so every retry is a DBOS step retry. MODE `bad_request`: one run that the server answers with 400.
MODE `secrets`: one run with an API key and a custom header, for the test to search the database.
Every model-request attempt is counted at its source, so the test can compare with the server's count.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from dbos import DBOS
from durable_core import without_sdk_retries
from durable_dbos import DBOSAgent, StepConfig
from openai import AsyncOpenAI
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.providers.openai import OpenAIProvider

mode, base_url, db_url, out = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
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


dbos_agent = DBOSAgent(
    agent,
    tool_step_config={},
    model_step_config=StepConfig(retries=8, interval_seconds=0.05, backoff_rate=1.0),
)


async def main() -> dict[str, Any]:
    DBOS.launch()
    if mode == 'faults':
        outputs = [(await dbos_agent.run(f'Weather in city {n}?')).output for n in range(10)]
        return {'outputs': outputs, 'attempts': attempts}
    try:
        result = await dbos_agent.run('Weather in Lisbon?')
    except Exception as error:
        return {'error_type': type(error).__name__, 'error': str(error)[:500], 'attempts': attempts}
    return {'outputs': [result.output], 'attempts': attempts}


DBOS(config={'name': f'provider-{mode}', 'system_database_url': db_url, 'log_level': 'ERROR'})
out.write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
