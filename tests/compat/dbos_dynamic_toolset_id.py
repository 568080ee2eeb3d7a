"""`@agent.toolset` without an `id`, with PydanticAI 2.68's `DBOSAgent` or ours: is it wrapped, does it run, what steps.

Usage: dbos_dynamic_toolset_id.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`.
The program is the same for both: an agent with a dynamic toolset registered by the bare decorator (no id), wrapped,
launched and run under a workflow id on SQLite. The report holds the wrapping error if any, the output, what the tool
saw, and the names of the workflow's steps.
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
from pydantic_ai import Agent, RunContext  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402
from pydantic_ai.toolsets import FunctionToolset  # noqa: E402

impl, db_url, out = sys.argv[1:4]
if impl == 'pydantic_ai':
    from pydantic_ai.durable_exec.dbos import DBOSAgent  # pyright: ignore[reportDeprecated]
else:
    from durable_dbos import DBOSAgent

seen: list[str] = []
agent = Agent(TestModel(), name='dynamic_no_id', deps_type=str)


@agent.toolset
def user_tools(ctx: RunContext[str]) -> FunctionToolset[str]:
    toolset = FunctionToolset[str]()

    @toolset.tool
    def greet(inner: RunContext[str]) -> str:  # pyright: ignore[reportUnusedFunction]
        seen.append(inner.deps)
        return f'hello {inner.deps}'

    return toolset


report: dict[str, Any] = {}
durable: Any = None
try:
    durable = DBOSAgent(agent)  # pyright: ignore[reportDeprecated]
except Exception as error:
    report['error'] = f'{type(error).__name__}: {error}'


async def main() -> None:
    DBOS.launch()
    if durable is None:
        return
    with SetWorkflowID('dynamic-1'):
        report['output'] = (await durable.run('Greet me.', deps='Ada')).output
    report['seen'] = seen
    steps = await DBOS.list_workflow_steps_async('dynamic-1')
    report['steps'] = [step['function_name'] for step in steps]


DBOS(config={'name': 'dynamic-no-id', 'system_database_url': db_url, 'log_level': 'WARNING'})
asyncio.run(main())
Path(out).write_text(json.dumps(report))
DBOS.destroy()
