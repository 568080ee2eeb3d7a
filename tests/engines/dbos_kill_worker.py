"""A DBOS worker for the kill trials: a 5-step run (model, tool, model, tool, model), each unit slow.

Usage: dbos_kill_worker.py FORM MODE DB_URL COUNTER WORKFLOW_ID
FORM `wrapper`: the run is a `DBOSAgent`'s `run`, a workflow of its own. FORM `capability`: the agent is built with
`DBOSDurability` (the wrapper's arguments) and its `agent.run()` is called in a `@DBOS.workflow` of this worker's,
which DBOS recovers by calling it again with its recorded prompt.
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

from _capability import parse_form
from _common import KILL_PROMPT, kill_agent
from dbos import DBOS, SetWorkflowID
from durable_core.testing import DurableCallCounter
from durable_dbos import DBOSAgent, DBOSDurability

form, mode, db_url, counter_path, workflow_id = parse_form(sys.argv[1]), *sys.argv[2:6]
record = DurableCallCounter(counter_path).record
# Workflows and steps are registered before DBOS.launch(), in every process: a recovering one finds them by name.
if form == 'wrapper':
    run_workflow = DBOSAgent(kill_agent(record), tool_step_config={}).run
else:
    # The capability with the wrapper's arguments above.
    agent = kill_agent(record, capabilities=[DBOSDurability(tool_step_config={})])

    @DBOS.workflow(name='kill_trials.capability_run')
    async def run_workflow(prompt: str) -> str:
        return (await agent.run(prompt)).output


DBOS(config={'name': 'kill-trials', 'system_database_url': db_url, 'log_level': 'WARNING'})


def output_of(result: object) -> str:
    """The run's output: the wrapper's workflow returns the `AgentRunResult`, the capability form's the output."""
    return result if isinstance(result, str) else result.output  # type: ignore[attr-defined]


async def main() -> None:
    DBOS.launch()
    if mode == 'start':
        with SetWorkflowID(workflow_id):
            result = await run_workflow(KILL_PROMPT)
        print(json.dumps({'output': output_of(result)}), flush=True)
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
    result = await handle.get_result()
    print(json.dumps({'output': output_of(result), 'pid': os.getpid()}), flush=True)


asyncio.run(main())
DBOS.destroy()
