"""A Prefect worker for the kill trials: a 5-step run (model, tool, model, tool, model), each unit slow.

Usage: prefect_kill_worker.py FORM MODE PREFECT_API_URL PREFECT_HOME COUNTER
FORM `wrapper`: the run is a `PrefectAgent`'s flow. FORM `capability`: the agent is built with `PrefectDurability`
(the wrapper's arguments) and its `agent.run()` is called in a `@flow` of this worker's (`kill_trials.capability_run`).
MODE `start`: create a flow run of the form's flow, write its id to COUNTER.id, and execute it here.
MODE `rerun`: start up, wait for the file COUNTER.resume, then set that flow run back to Scheduled and execute it
again here, as a Prefect worker does with a crashed run that is rerun; completed units load their results from the
result storage under PREFECT_HOME. (The test starts it alongside `start`, so its imports overlap that run.)
Each unit records `start:<unit>:<pid>` at its source before it works.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

form, mode, api_url, home, counter_path = sys.argv[1:6]
from _prefect_env import use_prefect_server  # noqa: E402

use_prefect_server(api_url, home)

import asyncio  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402
from uuid import UUID  # noqa: E402

from _capability import parse_form  # noqa: E402
from _common import KILL_PROMPT, kill_agent  # noqa: E402
from durable_core.testing import DurableCallCounter  # noqa: E402
from durable_prefect import PrefectAgent, PrefectDurability  # noqa: E402
from prefect import Flow, flow  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.flow_engine import run_flow_async  # noqa: E402
from prefect.states import Scheduled  # noqa: E402

record = DurableCallCounter(counter_path).record
id_file = Path(counter_path + '.id')
if parse_form(form) == 'wrapper':
    prefect_agent = PrefectAgent(kill_agent(record))
    run_flow: Flow[..., Any] = prefect_agent.flow
    parameters: dict[str, Any] = {'inputs': json.dumps({'user_prompt': KILL_PROMPT})}
else:
    # The capability with the wrapper's arguments above (none).
    agent = kill_agent(record, capabilities=[PrefectDurability()])

    @flow(name='kill_trials.capability_run')
    async def capability_run(prompt: str) -> str:
        return (await agent.run(prompt)).output

    run_flow, parameters = capability_run, {'prompt': KILL_PROMPT}


def output_of(returned: Any) -> str:
    """The run's output: the wrapper's flow returns the journaled result, the capability form's flow the output."""
    return prefect_agent.decode_result(returned).output if form == 'wrapper' else returned


async def main() -> None:
    async with get_client() as client:
        if mode == 'start':
            flow_run = await client.create_flow_run(run_flow, parameters=parameters)
            id_file.write_text(str(flow_run.id))
        else:
            resume = Path(counter_path + '.resume')
            while not resume.exists():
                await asyncio.sleep(0.05)
            flow_run_id = UUID(id_file.read_text())
            await client.set_flow_run_state(flow_run_id, Scheduled(), force=True)
            flow_run = await client.read_flow_run(flow_run_id)
    returned = await run_flow_async(run_flow, flow_run=flow_run, parameters=parameters)
    print(json.dumps({'output': output_of(returned), 'pid': os.getpid()}), flush=True)


asyncio.run(main())
