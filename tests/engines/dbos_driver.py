"""Runs every conformance scenario on DBOS. Usage: dbos_driver.py SYSTEM_DATABASE_URL OUT_JSON."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from _common import Built, run_all
from dbos import DBOS
from durable_dbos import DBOSAgent


def wrap(name: str, built: Built) -> Any:
    # Every tool a step: the promise is that no step-wrapped tool call runs twice.
    return DBOSAgent(built.agent, tool_step_config={}, models=built.models)


async def launch() -> None:
    DBOS.launch()


def main() -> None:
    database_url, out = sys.argv[1], Path(sys.argv[2])
    DBOS(config={'name': 'conformance', 'system_database_url': database_url, 'log_level': 'WARNING'})
    asyncio.run(run_all('dbos', wrap, lambda durable: durable.run, out, launch))
    DBOS.destroy()


if __name__ == '__main__':
    main()
