"""A DBOS app with one DBOSAgent, run as a subprocess that the recovery tests SIGKILL and restart.

Every model request and tool call is counted at its source, in a file that survives the kill.
In the first process (`start`), the scripted model's second request blocks, and so do the odd
calls of the parallel tool; the restarted process (`recover`) lets them through.

With `--form capability` the agent is durable by `DBOSDurability` and runs in a workflow of the app's own.

Usage: crash_worker.py MODE DB_URL COUNTER_FILE WORKFLOW_ID [--parallel N] [--app-version V] [--code-change]
[--expect-no-recovery] [--form wrapper|capability] [--register-legacy-workflows]

`--register-legacy-workflows` (capability form) also registers `DBOSAgent`'s workflow, to recover a run it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading

from dbos import DBOS, DBOSConfig, DBOSPortableJSONSerializer, SetWorkflowID
from durable_core.testing import DurableCallCounter, ScriptedModel, Step, ToolCall
from durable_dbos import DBOSAgent, DBOSDurability, StepConfig
from pydantic_ai import Agent

parser = argparse.ArgumentParser()
parser.add_argument('mode', choices=['start', 'recover'])
parser.add_argument('db_url')
parser.add_argument('counter_file')
parser.add_argument('workflow_id')
parser.add_argument('--parallel', type=int, default=0)
parser.add_argument('--app-version', default=None)
parser.add_argument('--code-change', action='store_true')
parser.add_argument('--expect-no-recovery', action='store_true')
parser.add_argument('--form', choices=['wrapper', 'capability'], default='wrapper')
parser.add_argument('--register-legacy-workflows', action='store_true')
args = parser.parse_args()

counter = DurableCallCounter(args.counter_file)
first_process = args.mode == 'start'
never = threading.Event()  # blocks the first process's in-flight work until SIGKILL
released = threading.Event()
released.set()
gate = never if first_process else released


if args.parallel:
    steps = [
        Step(
            tool_calls=[ToolCall('square', {'n': n}, tool_call_id=f'call-{n}') for n in range(args.parallel)],
            before=lambda: counter.record('model:1'),
        ),
        Step(text='all squared', before=lambda: counter.record('model:2')),
    ]
else:
    steps = [
        Step(tool_calls=[ToolCall('remember', {'fact': 'a'})], before=lambda: counter.record('model:1')),
        Step(tool_calls=[ToolCall('remember', {'fact': 'b'})], before=lambda: counter.record('model:2'), wait_for=gate),
        Step(text='remembered a and b', before=lambda: counter.record('model:3')),
    ]

model = ScriptedModel(steps, position='history')
capability = args.form == 'capability'
legacy = args.register_legacy_workflows
durability = [DBOSDurability(tool_step_config=StepConfig(retries=0), register_legacy_workflows=legacy)]
agent = Agent(model, name='crash_agent', capabilities=durability if capability else [])


@agent.tool_plain
def remember(fact: str) -> str:
    counter.record(f'tool:{fact}')
    return f'noted {fact}'


@agent.tool_plain
async def square(n: int) -> int:
    counter.record(f'square:{n}')
    if n % 2 == 1:
        # Odd calls hang in the first process, even ones finish in a scrambled order.
        await asyncio.to_thread(gate.wait)
    else:
        await asyncio.sleep((n * 7919 % 13) / 1000)
    counter.record(f'square_done:{n}')
    return n * n


if capability:

    @DBOS.workflow()
    async def app_workflow(prompt: str) -> str:
        return (await agent.run(prompt)).output

else:
    dbos_agent = DBOSAgent(agent, tool_step_config=StepConfig(retries=0))

if args.code_change:

    @DBOS.workflow()
    def added_in_a_new_release() -> str:
        return 'new code'


config: DBOSConfig = {
    'name': 'crash-app',
    'system_database_url': args.db_url,
    'serializer': DBOSPortableJSONSerializer(),
}
if args.app_version:
    config['application_version'] = args.app_version
DBOS(config=config)


async def main() -> None:
    DBOS.launch()
    if first_process:
        with SetWorkflowID(args.workflow_id):
            await (app_workflow('Remember things.') if capability else dbos_agent.run('Remember things.'))
        raise SystemExit('the first process should have been killed before it finished')
    # DBOS.launch() recovered the pending workflow of this app version; wait for it.
    handle = await DBOS.retrieve_workflow_async(args.workflow_id)
    if args.expect_no_recovery:
        await asyncio.sleep(3)  # long enough for a recovery that was going to happen to have started
        status = await handle.get_status()
        print(json.dumps({'status': status.status, 'app_version': status.app_version}), flush=True)
        return
    # With DBOS's portable JSON serializer, DBOS's handle returns the result as our codec's JSON text.
    result = await handle.get_result()
    if legacy:  # a run that a DBOSAgent started: its workflow's result, read by the capability's wrapper
        output = durability[0].durable_agent.decode_result(result).output
    else:
        output = result if capability else dbos_agent.decode_result(result).output
    status = await handle.get_status()
    print(json.dumps({'status': status.status, 'output': output}), flush=True)


asyncio.run(main())
DBOS.destroy()
sys.exit(0)
