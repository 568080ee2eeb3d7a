"""Runs every conformance scenario on Prefect. Usage: prefect_driver.py PREFECT_API_URL OUT_JSON.

The flows run against the real local server at PREFECT_API_URL (never an ephemeral one), with a
private PREFECT_HOME and analytics off; all of it is set before prefect is imported.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _prefect_env import use_prefect_server

use_prefect_server(sys.argv[1], tempfile.mkdtemp(prefix='durable-conformance-prefect-'), logging_level='WARNING')

import asyncio  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

from _common import Built, run_all  # noqa: E402
from durable_prefect import PrefectAgent  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.filters import FlowFilter, FlowFilterName  # noqa: E402


def wrap(name: str, built: Built) -> Any:
    # Every function tool is a task by default: the promise is that no task-wrapped tool call runs twice.
    return PrefectAgent(built.agent, models=built.models)


async def flow_runs(out: Path) -> None:
    """Add to each scenario's report how many flow runs its agent made on the server: proof that it ran there."""
    report = json.loads(out.read_text())
    async with get_client() as client:
        for name, entry in report.items():
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[f'{name}_prefect.run']))
            )
            entry['flow_runs'] = len(runs)
    out.write_text(json.dumps(report))


async def main(out: Path) -> None:
    await run_all('prefect', wrap, lambda durable: durable.run, out)
    await flow_runs(out)


if __name__ == '__main__':
    asyncio.run(main(Path(sys.argv[2])))
