"""Runs agents on DBOS against the local OpenAI-compatible server, for the fault and secrets suites.

Usage: dbos_provider.py FORM MODE BASE_URL DB_URL OUT_JSON
FORM `wrapper`: the agent in a `DBOSAgent`, whose `run` is a workflow of its own. FORM `capability`: the agent built
with `DBOSDurability` (the wrapper's arguments), its `agent.run()` called in a `@DBOS.workflow` of this driver's.
MODE `faults`: ten runs of a model-tool-model agent while the server injects faults; SDK retries are
off, so every retry is a DBOS step retry. MODE `bad_request`: one run that the server answers with 400.
MODE `secrets`: one run with an API key and a custom header, for the test to search the database.
Every model-request attempt is counted at its source, so the test can compare with the server's count.
In the capability form the report also lists the steps each run's workflow journaled (`units`), proof it was durable.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from _capability import ContainedRuns, parse_form
from _provider import drive, provider_agent
from dbos import DBOS
from durable_dbos import DBOSAgent, DBOSDurability, StepConfig

form, mode, base_url, db_url, out = parse_form(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5])
MODEL_STEP_CONFIG = StepConfig(retries=8, interval_seconds=0.05, backoff_rate=1.0)


async def run_wrapper_form() -> dict[str, Any]:
    agent = provider_agent(base_url, f'provider_{mode}')
    dbos_agent = DBOSAgent(agent, tool_step_config={}, model_step_config=MODEL_STEP_CONFIG)
    DBOS.launch()
    return await drive(mode, dbos_agent.run)


async def run_capability_form() -> dict[str, Any]:
    # The capability with the wrapper's arguments above.
    capability = DBOSDurability(tool_step_config={}, model_step_config=MODEL_STEP_CONFIG)
    agent = provider_agent(base_url, f'provider_{mode}', capabilities=[capability])

    # Registered before DBOS.launch(), as an application's workflows are; it takes only the key of its run.
    @DBOS.workflow(name='provider.capability_run')
    async def capability_run(key: str) -> None:
        assert DBOS.workflow_id is not None
        await runs.run(key, DBOS.workflow_id)

    runs = ContainedRuns(capability_run)
    DBOS.launch()
    report = await drive(mode, runs.runner(agent))
    workflow_ids = runs.containers[f'provider_{mode}']
    units = [
        step['function_name']
        for workflow_id in workflow_ids
        for step in await DBOS.list_workflow_steps_async(workflow_id)
    ]
    return {**report, 'containers': len(workflow_ids), 'units': units}


DBOS(config={'name': f'provider-{mode}', 'system_database_url': db_url, 'log_level': 'ERROR'})
out.write_text(json.dumps(asyncio.run(run_wrapper_form() if form == 'wrapper' else run_capability_form())))
DBOS.destroy()
