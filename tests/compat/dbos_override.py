"""`override()` inside a DBOS workflow, with PydanticAI 2.68's `durable_exec` or ours, in either form.

Usage: dbos_override.py FORM IMPL DB_URL OUT_JSON, where FORM is `wrapper` (`DBOSAgent`) or `capability`
(`DBOSDurability` on the agent) and IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`. The program is the same
for all four: a workflow overrides the durable agent inside a `with` and runs it, once per case: deps, its own model
(`durable.model`), toolsets the agent has (none of them), and a toolset it does not have. The report holds, per
case, the output and what the tools saw, or the error.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
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


agent = Agent(
    TestModel(), name='override_compat', deps_type=User, toolsets=[people], capabilities=durability(impl, form)
)
durable_agent: Any = durable(impl, form, agent)
CASES: dict[str, dict[str, Any]] = {
    'deps': {'deps': User('Grace')},
    'own model': {'model': durable_agent.model},
    'no toolsets': {'toolsets': []},
    'a new toolset': {'toolsets': [late]},
}


@DBOS.workflow(name='override_compat.user_workflow')
async def user_workflow(case: str) -> str:
    with durable_agent.override(**CASES[case]):
        return (await durable_agent.run('Who?', deps=User('Ada'))).output


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


DBOS(config={'name': f'{form}-override-compat', 'system_database_url': db_url, 'log_level': 'WARNING'})
Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
