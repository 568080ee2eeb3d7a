"""Runs every conformance scenario on DBOS. Usage: dbos_driver.py FORM SYSTEM_DATABASE_URL OUT_JSON.

FORM is `wrapper` (each scenario agent in a `DBOSAgent`, whose `run` is a workflow of its own) or `capability` (each
scenario agent built with `DBOSDurability`, its `agent.run()` called in a `@DBOS.workflow` of this driver's).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from _capability import ContainedRuns, build_agents_with, parse_form
from _common import Built, run_all
from dbos import DBOS
from durable_dbos import DBOSAgent, DBOSDurability
from pydantic_ai.models import Model

CAPABILITY_ENGINE = 'dbos_capability'
"""The capability form's agents are named `<scenario>_dbos_capability`."""


def wrap(name: str, built: Built) -> Any:
    # Every tool a step: the promise is that no step-wrapped tool call runs twice.
    return DBOSAgent(built.agent, tool_step_config={}, models=built.models)


def durability(models: dict[str, Model]) -> list[DBOSDurability[Any]]:
    # The capability with the wrapper's arguments above.
    return [DBOSDurability(tool_step_config={}, models=models)]


async def launch() -> None:
    DBOS.launch()


async def run_capability_form(out: Path) -> None:
    build_agents_with(durability)

    # Registered before DBOS.launch(), as an application's workflows are; it takes only the key of its run.
    @DBOS.workflow(name='conformance.capability_run')
    async def capability_run(key: str) -> None:
        assert DBOS.workflow_id is not None
        await runs.run(key, DBOS.workflow_id)

    runs = ContainedRuns(capability_run)
    await run_all(CAPABILITY_ENGINE, lambda name, built: built.agent, runs.runner, out, launch)
    # Proof that each run was durable: the steps its workflows journaled.
    report = json.loads(out.read_text())
    for name, entry in report.items():
        workflow_ids = runs.containers.get(f'{name}_{CAPABILITY_ENGINE}', [])
        entry['containers'] = len(workflow_ids)
        entry['units'] = [
            step['function_name']
            for workflow_id in workflow_ids
            for step in await DBOS.list_workflow_steps_async(workflow_id)
        ]
    out.write_text(json.dumps(report))


def main() -> None:
    form, database_url, out = parse_form(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    DBOS(config={'name': 'conformance', 'system_database_url': database_url, 'log_level': 'WARNING'})
    if form == 'wrapper':
        asyncio.run(run_all('dbos', wrap, lambda durable: durable.run, out, launch))
    else:
        asyncio.run(run_capability_form(out))
    DBOS.destroy()


if __name__ == '__main__':
    main()
