"""`@agent.toolset` without an `id` on an agent with `DBOSDurability`, PydanticAI 2.68's or ours (issue 15).

Usage: dbos_capability_dynamic_toolset_id.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's
`durable_exec`) or `ours`. The capability twin of `dbos_dynamic_toolset_id.py`: an agent with the capability and a
dynamic toolset registered by the bare decorator (no id) runs in the app's workflow under a workflow id. The report
holds the error if any, the output, what the tool saw, and the names of the workflow's steps.
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
    from pydantic_ai.durable_exec.dbos import DBOSDurability
else:
    from durable_dbos import DBOSDurability

seen: list[str] = []
agent = Agent(TestModel(), name='dynamic_no_id', deps_type=str, capabilities=[DBOSDurability()])


@agent.toolset
def user_tools(ctx: RunContext[str]) -> FunctionToolset[str]:
    toolset = FunctionToolset[str]()

    @toolset.tool
    def greet(inner: RunContext[str]) -> str:  # pyright: ignore[reportUnusedFunction]
        seen.append(inner.deps)
        return f'hello {inner.deps}'

    return toolset


@DBOS.workflow()
async def app_workflow(prompt: str, deps: str) -> str:
    return (await agent.run(prompt, deps=deps)).output


report: dict[str, Any] = {}


async def main() -> None:
    DBOS.launch()
    try:
        with SetWorkflowID('dynamic-1'):
            report['output'] = await app_workflow('Greet me.', 'Ada')
    except Exception as error:
        report['error'] = f'{type(error).__name__}: {error}'
        return
    report['seen'] = seen
    steps = await DBOS.list_workflow_steps_async('dynamic-1')
    report['steps'] = [step['function_name'] for step in steps]


DBOS(config={'name': 'capability-dynamic-no-id', 'system_database_url': db_url, 'log_level': 'WARNING'})
asyncio.run(main())
Path(out).write_text(json.dumps(report))
DBOS.destroy()
