"""A DBOS worker for the kill trials: a 5-step run (model, tool, model, tool, model), each unit slow.

Usage: dbos_kill_worker.py MODE DB_URL COUNTER WORKFLOW_ID
MODE is `start` (run the workflow), `recover` (launch; DBOS recovers what this app left pending),
or `standby` (launch, wait for the file COUNTER.resume, then take over the run with resume_workflow).
Each unit records `start:<unit>:<pid>` at its source before it works.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from _common import KILL_PROMPT, kill_agent
from dbos import DBOS, SetWorkflowID
from durable_core.testing import DurableCallCounter
from durable_dbos import DBOSAgent

mode, db_url, counter_path, workflow_id = sys.argv[1:5]
agent = kill_agent(DurableCallCounter(counter_path).record)
dbos_agent = DBOSAgent(agent, tool_step_config={})
DBOS(config={'name': 'kill-trials', 'system_database_url': db_url, 'log_level': 'WARNING'})


async def main() -> None:
    DBOS.launch()
    if mode == 'start':
        with SetWorkflowID(workflow_id):
            result = await dbos_agent.run(KILL_PROMPT)
        print(json.dumps({'output': result.output}), flush=True)
        return
    if mode == 'standby':
        # Launched (and its own recovery done) before the other worker starts the run: otherwise this
        # launch could recover the other's pending run and both would execute it.
        Path(counter_path + '.ready').touch()
        resume = Path(counter_path + '.resume')
        while not resume.exists():
            await asyncio.sleep(0.05)
        await DBOS.resume_workflow_async(workflow_id)
    handle = await DBOS.retrieve_workflow_async(workflow_id)
    result = await handle.get_result()  # an AgentRunResult
    print(json.dumps({'output': result.output, 'pid': os.getpid()}), flush=True)


asyncio.run(main())
DBOS.destroy()
