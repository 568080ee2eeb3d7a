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

from _provider import drive, provider_agent
from dbos import DBOS
from durable_dbos import DBOSAgent, StepConfig

mode, base_url, db_url, out = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
agent = provider_agent(base_url, f'provider_{mode}')


dbos_agent = DBOSAgent(
    agent,
    tool_step_config={},
    model_step_config=StepConfig(retries=8, interval_seconds=0.05, backoff_rate=1.0),
)


async def main() -> dict[str, Any]:
    DBOS.launch()
    return await drive(mode, dbos_agent.run)


DBOS(config={'name': f'provider-{mode}', 'system_database_url': db_url, 'log_level': 'ERROR'})
out.write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
