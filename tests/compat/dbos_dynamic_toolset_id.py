"""`@agent.toolset` without an `id` on DBOS, with PydanticAI 2.68's `durable_exec` or ours, in either form.

Usage: dbos_dynamic_toolset_id.py FORM IMPL DB_URL OUT_JSON, where FORM is `wrapper` (`DBOSAgent`) or `capability`
(`DBOSDurability` on the agent) and IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`. The program is the same
for all four: an agent with a dynamic toolset registered by the bare decorator (no id) is made durable, launched and
run under a workflow id on SQLite (the wrapper's own workflow, or the app's with the capability). The report holds
the error if any (of making it durable, or of the run), the output, what the tool saw, and the names of the
workflow's steps.
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
from pydantic_ai import Agent, RunContext  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402
from pydantic_ai.toolsets import FunctionToolset  # noqa: E402

form, impl, db_url, out = program_arguments()

seen: list[str] = []
agent = Agent(TestModel(), name='dynamic_no_id', deps_type=str, capabilities=durability(impl, form))


@agent.toolset
def user_tools(ctx: RunContext[str]) -> FunctionToolset[str]:
    toolset = FunctionToolset[str]()

    @toolset.tool
    def greet(inner: RunContext[str]) -> str:  # pyright: ignore[reportUnusedFunction]
        seen.append(inner.deps)
        return f'hello {inner.deps}'

    return toolset


report: dict[str, Any] = {}
durable_agent: Any = None
try:
    durable_agent = durable(impl, form, agent)
except Exception as error:
    report['error'] = f'{type(error).__name__}: {error}'


@DBOS.workflow()
async def app_workflow(prompt: str, deps: str) -> str:
    return (await durable_agent.run(prompt, deps=deps)).output


async def main() -> None:
    DBOS.launch()
    if durable_agent is None:
        return
    try:
        with SetWorkflowID('dynamic-1'):
            # The wrapper's run is a workflow of its own; the capability runs in the app's.
            if form == 'wrapper':
                report['output'] = (await durable_agent.run('Greet me.', deps='Ada')).output
            else:
                report['output'] = await app_workflow('Greet me.', 'Ada')
    except Exception as error:
        report['error'] = f'{type(error).__name__}: {error}'
    report['seen'] = seen
    steps = await DBOS.list_workflow_steps_async('dynamic-1')
    report['steps'] = [step['function_name'] for step in steps]


DBOS(config={'name': f'{form}-dynamic-no-id', 'system_database_url': db_url, 'log_level': 'WARNING'})
asyncio.run(main())
Path(out).write_text(json.dumps(report))
DBOS.destroy()
