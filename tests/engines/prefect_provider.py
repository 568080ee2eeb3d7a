"""Runs agents on Prefect against the local OpenAI-compatible server, for the fault and secrets suites.

Usage: prefect_provider.py MODE BASE_URL PREFECT_API_URL PREFECT_HOME OUT_JSON
MODE `faults`: ten runs of a model-tool-model agent while the server injects faults; SDK retries are
off, so every retry is a Prefect task retry. MODE `bad_request`: one run that the server answers with 400.
MODE `secrets`: one run with an API key and a custom header, for the test to search what Prefect stored.
Every model-request attempt is counted at its source, so the test can compare with the server's count.
Results are persisted under PREFECT_HOME (Prefect's default local result storage), which the test searches.
"""

from __future__ import annotations

import sys
from pathlib import Path

mode, base_url, api_url, home, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5])
from _prefect_env import use_prefect_server  # noqa: E402

use_prefect_server(api_url, home, log_to_api=True)

import asyncio  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

from _provider import drive, provider_agent  # noqa: E402
from durable_prefect import PrefectAgent, TaskConfig  # noqa: E402

agent = provider_agent(base_url, f'provider_{mode}')


prefect_agent = PrefectAgent(agent, model_task_config=TaskConfig(retries=8, retry_delay_seconds=0.05))


async def main() -> dict[str, Any]:
    return await drive(mode, prefect_agent.run)


out.write_text(json.dumps(asyncio.run(main())))
