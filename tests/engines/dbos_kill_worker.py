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
import time
from pathlib import Path

from dbos import DBOS, SetWorkflowID
from durable_core.testing import DurableCallCounter, ScriptedModel, Step, ToolCall
from durable_dbos import DBOSAgent
from pydantic_ai import Agent

mode, db_url, counter_path, workflow_id = sys.argv[1:5]
counter = DurableCallCounter(counter_path)
UNIT_SECONDS = 0.15


def slow(label: str) -> None:
    counter.record(f'start:{label}:{os.getpid()}')
    time.sleep(UNIT_SECONDS)


model = ScriptedModel(
    [
        Step(tool_calls=[ToolCall('fetch', {'key': 'a'}, 'f1')], before=lambda: slow('model:1')),
        Step(tool_calls=[ToolCall('fetch', {'key': 'b'}, 'f2')], before=lambda: slow('model:2')),
        Step(text='a=1, b=2', before=lambda: slow('model:3')),
    ],
    position='history',
)
agent = Agent(model, name='kill_trials')


@agent.tool_plain
def fetch(key: str) -> int:
    slow(f'tool:{key}')
    return {'a': 1, 'b': 2}[key]


dbos_agent = DBOSAgent(agent, tool_step_config={})
DBOS(config={'name': 'kill-trials', 'system_database_url': db_url, 'log_level': 'WARNING'})


async def main() -> None:
    DBOS.launch()
    if mode == 'start':
        with SetWorkflowID(workflow_id):
            result = await dbos_agent.run('Fetch a and b.')
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
    result = json.loads(await handle.get_result())
    print(json.dumps({'output': result['output'], 'pid': os.getpid()}), flush=True)


asyncio.run(main())
DBOS.destroy()
