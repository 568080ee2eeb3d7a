"""A `FunctionToolset` without an id on an agent with `DBOSDurability`, PydanticAI 2.68's or ours (issue 15).

Usage: dbos_capability_toolset_without_id.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's
`durable_exec`) or `ours`. The capability twin of `dbos_toolset_without_id.py`: an agent whose toolset has no id,
with the capability, runs in the app's workflow under a workflow id. The report holds the run's output, how often
the tool ran, and the workflow's step names.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

from dbos import DBOS, SetWorkflowID  # noqa: E402
from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402
from pydantic_ai.toolsets import FunctionToolset  # noqa: E402

impl, db_url, out = sys.argv[1:4]
if impl == 'pydantic_ai':
    from pydantic_ai.durable_exec.dbos import DBOSDurability
else:
    from durable_dbos import DBOSDurability

DBOS(config={'name': 'capability-toolset-without-id', 'system_database_url': db_url, 'log_level': 'WARNING'})
tool_runs: list[str] = []
toolset = FunctionToolset[None]()


@toolset.tool_plain
def lookup(key: str) -> str:
    tool_runs.append(key)
    return f'value of {key}'


report: dict[str, Any] = {}
try:
    agent: Any = Agent(
        TestModel(custom_output_text='done'), name='no_id', toolsets=[toolset], capabilities=[DBOSDurability()]
    )
except Exception as error:
    agent = None
    report['error'] = f'{type(error).__name__}: {error}'


@DBOS.workflow()
async def app_workflow(prompt: str) -> str:
    return (await agent.run(prompt)).output


async def main() -> None:
    DBOS.launch()
    if agent is None:
        return
    with SetWorkflowID('no-id-1'):
        report['output'] = await app_workflow('look it up')
    steps = await DBOS.list_workflow_steps_async('no-id-1')
    report['steps'] = [step['function_name'] for step in steps]
    report['tool_runs'] = tool_runs


asyncio.run(main())
Path(out).write_text(json.dumps(report))
DBOS.destroy()
