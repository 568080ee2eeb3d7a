"""A DBOS app whose capability agent runs a tool as a child workflow; the recovery test SIGKILLs and restarts it.

The model asks for `fetch('a')`, then `fetch('b')`, then answers. Each call is a child workflow of the app's
workflow, and runs one DBOS step. In the first process (`start`), the child `b` hangs after its step; the restarted
process (`recover`) lets it through. Every model request, tool call and step is counted at its source, in a file
that survives the kill.

Usage: child_workflow_worker.py MODE DB_URL COUNTER_FILE WORKFLOW_ID
"""

from __future__ import annotations

import asyncio
import sys
import threading

from dbos import DBOS, DBOSConfig, DBOSPortableJSONSerializer, SetWorkflowID
from durable_core.testing import DurableCallCounter, ScriptedModel, Step, ToolCall
from durable_dbos import ChildWorkflowConfig, DBOSDurability
from pydantic_ai import Agent, Tool

mode, db_url, counter_file, workflow_id = sys.argv[1:5]
counter = DurableCallCounter(counter_file)
never = threading.Event()  # blocks the first process's child `b` until SIGKILL
released = threading.Event()
released.set()
gate = never if mode == 'start' else released


async def fetch(key: str) -> str:
    counter.record(f'fetch:{key}')

    async def step() -> str:
        counter.record(f'step:{key}')
        return f'{key} fetched'

    fetched = await DBOS.run_step_async({'name': 'fetch_step'}, step)
    if key == 'b':
        counter.record('fetch_blocked:b')
        await asyncio.to_thread(gate.wait)
    counter.record(f'fetch_done:{key}')
    return fetched


model = ScriptedModel(
    [
        Step(tool_calls=[ToolCall('fetch', {'key': 'a'})], before=lambda: counter.record('model:1')),
        Step(tool_calls=[ToolCall('fetch', {'key': 'b'})], before=lambda: counter.record('model:2')),
        Step(text='fetched a and b', before=lambda: counter.record('model:3')),
    ],
    position='history',
)
metadata = {'dbos': {'child_workflow': ChildWorkflowConfig(workflow_timeout_sec=600)}}
agent = Agent(model, name='child_crash_agent', tools=[Tool(fetch, metadata=metadata)], capabilities=[DBOSDurability()])


@DBOS.workflow()
async def app_workflow(prompt: str) -> str:
    return (await agent.run(prompt)).output


config: DBOSConfig = {
    'name': 'child-crash-app',
    'system_database_url': db_url,
    'serializer': DBOSPortableJSONSerializer(),
}
DBOS(config=config)


async def main() -> None:
    DBOS.launch()
    if mode == 'start':
        with SetWorkflowID(workflow_id):
            await app_workflow('Fetch a and b.')
        raise SystemExit('the first process should have been killed before it finished')
    # DBOS.launch() recovered the pending workflows, the app's and its child's; wait for the app's.
    handle = await DBOS.retrieve_workflow_async(workflow_id)
    output = await handle.get_result()
    status = await handle.get_status()
    print(status.status, output, flush=True)


asyncio.run(main())
DBOS.destroy()
sys.exit(0)
