"""`override()` inside a DBOS workflow on an agent with `DBOSDurability`, PydanticAI 2.68's or ours (issue 15).

Usage: dbos_capability_override.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's `durable_exec`) or
`ours`. The capability twin of `dbos_override.py`: a workflow overrides the agent inside a `with` and runs it, once
per case: deps, the agent's own model (`agent.model`), toolsets the agent has (none of them), and a toolset it does
not have. The report holds, per case, the output and what the tools saw, or the error.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
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


@dataclass
class User:
    name: str


seen: list[str] = []
people = FunctionToolset[User](id='people')


@people.tool
def whoami(ctx: RunContext[User]) -> str:
    seen.append(ctx.deps.name)
    return f'you are {ctx.deps.name}'


late = FunctionToolset[User](id='late')


@late.tool_plain
def unjournaled() -> str:
    return 'ran'


agent = Agent(TestModel(), name='override_compat', deps_type=User, toolsets=[people], capabilities=[DBOSDurability()])
CASES: dict[str, dict[str, Any]] = {
    'deps': {'deps': User('Grace')},
    'own model': {'model': agent.model},
    'no toolsets': {'toolsets': []},
    'a new toolset': {'toolsets': [late]},
}


@DBOS.workflow(name='override_compat.user_workflow')
async def user_workflow(case: str) -> str:
    with agent.override(**CASES[case]):
        return (await agent.run('Who?', deps=User('Ada'))).output


async def main() -> dict[str, Any]:
    DBOS.launch()
    report: dict[str, Any] = {}
    for n, case in enumerate(CASES):
        seen.clear()
        try:
            with SetWorkflowID(f'override-{n}'):
                report[case] = {'output': await user_workflow(case), 'seen': list(seen)}
        except Exception as error:
            report[case] = {'error': f'{type(error).__name__}: {error}'}
    return report


DBOS(config={'name': 'capability-override-compat', 'system_database_url': db_url, 'log_level': 'WARNING'})
Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
