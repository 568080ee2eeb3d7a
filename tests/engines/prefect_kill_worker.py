"""A Prefect worker for the kill trials: a 5-step run (model, tool, model, tool, model), each unit slow.

Usage: prefect_kill_worker.py MODE PREFECT_API_URL PREFECT_HOME COUNTER
MODE `start`: create a flow run of the agent's flow, write its id to COUNTER.id, and execute it here.
MODE `rerun`: start up, wait for the file COUNTER.resume, then set that flow run back to Scheduled and execute it
again here, as a Prefect worker does with a crashed run that is rerun; completed units load their results from the
result storage under PREFECT_HOME. (The test starts it alongside `start`, so its imports overlap that run.)
Each unit records `start:<unit>:<pid>` at its source before it works.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

mode, api_url, home, counter_path = sys.argv[1:5]
from _prefect_env import use_prefect_server  # noqa: E402

use_prefect_server(api_url, home)

import asyncio  # noqa: E402
import json  # noqa: E402
from uuid import UUID  # noqa: E402

from _common import KILL_PROMPT, kill_agent  # noqa: E402
from durable_core.testing import DurableCallCounter  # noqa: E402
from durable_prefect import PrefectAgent  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.flow_engine import run_flow_async  # noqa: E402
from prefect.states import Scheduled  # noqa: E402

agent = kill_agent(DurableCallCounter(counter_path).record)
prefect_agent = PrefectAgent(agent)
INPUTS = json.dumps({'user_prompt': KILL_PROMPT})
id_file = Path(counter_path + '.id')


async def main() -> None:
    async with get_client() as client:
        if mode == 'start':
            flow_run = await client.create_flow_run(prefect_agent.flow, parameters={'inputs': INPUTS})
            id_file.write_text(str(flow_run.id))
        else:
            resume = Path(counter_path + '.resume')
            while not resume.exists():
                await asyncio.sleep(0.05)
            flow_run_id = UUID(id_file.read_text())
            await client.set_flow_run_state(flow_run_id, Scheduled(), force=True)
            flow_run = await client.read_flow_run(flow_run_id)
    journaled = await run_flow_async(prefect_agent.flow, flow_run=flow_run, parameters={'inputs': INPUTS})
    result = prefect_agent.decode_result(journaled)  # pyright: ignore[reportArgumentType]
    print(json.dumps({'output': result.output, 'pid': os.getpid()}), flush=True)


asyncio.run(main())
