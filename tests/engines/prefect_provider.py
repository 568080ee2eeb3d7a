"""Runs agents on Prefect against the local OpenAI-compatible server, for the fault and secrets suites.

Usage: prefect_provider.py FORM MODE BASE_URL PREFECT_API_URL PREFECT_HOME OUT_JSON
FORM `wrapper`: the agent in a `PrefectAgent`, whose `run` is a flow of its own. FORM `capability`: the agent built
with `PrefectDurability` (the wrapper's arguments), its `agent.run()` called in a `@flow` of this driver's
(`provider_<MODE>.capability_run`).
MODE `faults`: ten runs of a model-tool-model agent while the server injects faults; SDK retries are
off, so every retry is a Prefect task retry. MODE `bad_request`: one run that the server answers with 400.
MODE `secrets`: one run with an API key and a custom header, for the test to search what Prefect stored.
Every model-request attempt is counted at its source, so the test can compare with the server's count.
Results are persisted under PREFECT_HOME (Prefect's default local result storage), which the test searches.
"""

from __future__ import annotations

import sys
from pathlib import Path

form, mode, base_url, api_url, home, out = (*sys.argv[1:6], Path(sys.argv[6]))
from _prefect_env import use_prefect_server  # noqa: E402

use_prefect_server(api_url, home, log_to_api=True)

import asyncio  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

from _capability import ContainedRuns, parse_form  # noqa: E402
from _provider import drive, provider_agent  # noqa: E402
from durable_prefect import PrefectAgent, PrefectDurability, TaskConfig  # noqa: E402
from prefect import flow  # noqa: E402
from prefect.context import FlowRunContext  # noqa: E402

MODEL_TASK_CONFIG = TaskConfig(retries=8, retry_delay_seconds=0.05)
CAPABILITY_FLOW = f'provider_{mode}.capability_run'
"""The capability form's container flow, whose runs the secrets test reads back (`test_provider_faults.py`)."""


@flow(name=CAPABILITY_FLOW)
async def capability_run(key: str) -> None:
    """The capability form's container: the agent run `key` names, in a flow run of this flow."""
    context = FlowRunContext.get()
    assert context is not None
    assert context.flow_run is not None
    await RUNS.run(key, str(context.flow_run.id))


RUNS = ContainedRuns(capability_run)


async def main() -> dict[str, Any]:
    if parse_form(form) == 'wrapper':
        agent = provider_agent(base_url, f'provider_{mode}')
        return await drive(mode, PrefectAgent(agent, model_task_config=MODEL_TASK_CONFIG).run)
    # The capability with the wrapper's arguments above.
    agent = provider_agent(
        base_url, f'provider_{mode}', capabilities=[PrefectDurability(model_task_config=MODEL_TASK_CONFIG)]
    )
    report = await drive(mode, RUNS.runner(agent))
    return {**report, 'containers': len(RUNS.containers[f'provider_{mode}'])}


out.write_text(json.dumps(asyncio.run(main())))
