"""A `FunctionToolset` without an id on DBOS, with PydanticAI 2.68's `durable_exec` or ours, in either form.

Usage: dbos_toolset_without_id.py FORM IMPL DB_URL OUT_JSON, where FORM is `wrapper` (`DBOSAgent`) or `capability`
(`DBOSDurability` on the agent) and IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`. The program is the same
for all four: an agent whose toolset has no id is made durable and run under a workflow id (the wrapper's own
workflow, or the app's with the capability); its tool runs in workflow code. The report holds the error of making
it durable if any, the run's output, how often the tool ran, and the workflow's step names.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

from _dbos_program import durability, durable, program_arguments  # noqa: E402
from dbos import DBOS, SetWorkflowID  # noqa: E402
from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402
from pydantic_ai.toolsets import FunctionToolset  # noqa: E402

form, impl, db_url, out = program_arguments()

DBOS(config={'name': f'{form}-toolset-without-id', 'system_database_url': db_url, 'log_level': 'WARNING'})
tool_runs: list[str] = []
toolset = FunctionToolset[None]()


@toolset.tool_plain
def lookup(key: str) -> str:
    tool_runs.append(key)
    return f'value of {key}'


report: dict[str, Any] = {}
try:
    durable_agent: Any = durable(
        impl,
        form,
        Agent(
            TestModel(custom_output_text='done'),
            name='no_id',
            toolsets=[toolset],
            capabilities=durability(impl, form),
        ),
    )
except Exception as error:
    durable_agent = None
    report['error'] = f'{type(error).__name__}: {error}'


@DBOS.workflow()
async def app_workflow(prompt: str) -> str:
    return (await durable_agent.run(prompt)).output


async def main() -> None:
    DBOS.launch()
    if durable_agent is None:
        return
    with SetWorkflowID('no-id-1'):
        # The wrapper's run is a workflow of its own; the capability runs in the app's.
        if form == 'wrapper':
            report['output'] = (await durable_agent.run('look it up')).output
        else:
            report['output'] = await app_workflow('look it up')
    steps = await DBOS.list_workflow_steps_async('no-id-1')
    report['steps'] = [step['function_name'] for step in steps]
    report['tool_runs'] = tool_runs


asyncio.run(main())
Path(out).write_text(json.dumps(report))
DBOS.destroy()
