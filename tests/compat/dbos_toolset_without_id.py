"""A `FunctionToolset` without an id on a `DBOSAgent`, with PydanticAI 2.68's wrapper or ours (issue 14, item 11).

Usage: dbos_toolset_without_id.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`.
The program is the same for both: an agent whose toolset has no id is wrapped and run under a workflow id; its tool
runs in workflow code. The report holds the run's output, how often the tool ran, and the workflow's step names.
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
    from pydantic_ai.durable_exec.dbos import DBOSAgent  # pyright: ignore[reportDeprecated]
else:
    from durable_dbos import DBOSAgent

DBOS(config={'name': 'toolset-without-id', 'system_database_url': db_url, 'log_level': 'WARNING'})
tool_runs: list[str] = []
toolset = FunctionToolset[None]()


@toolset.tool_plain
def lookup(key: str) -> str:
    tool_runs.append(key)
    return f'value of {key}'


report: dict[str, Any] = {}
try:
    dbos_agent: Any = DBOSAgent(Agent(TestModel(custom_output_text='done'), name='no_id', toolsets=[toolset]))  # pyright: ignore[reportDeprecated]
except Exception as error:
    dbos_agent = None
    report['error'] = f'{type(error).__name__}: {error}'


async def main() -> None:
    DBOS.launch()
    if dbos_agent is None:
        return
    with SetWorkflowID('no-id-1'):
        report['output'] = (await dbos_agent.run('look it up')).output
    steps = await DBOS.list_workflow_steps_async('no-id-1')
    report['steps'] = [step['function_name'] for step in steps]
    report['tool_runs'] = tool_runs


asyncio.run(main())
Path(out).write_text(json.dumps(report))
DBOS.destroy()
