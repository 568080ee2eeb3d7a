"""`run(event_stream_handler=...)` on a `DBOSAgent`, with PydanticAI 2.68's wrapper or ours (issue 14, item 11).

Usage: dbos_run_time_handler.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`.
The program is the same for both: an agent with one tool and no handler of its own is run twice with a handler
passed to `run()`, once from outside any workflow and once from workflow code. The report holds each run's output,
the events its handler saw (kind, and whether it ran inside a DBOS step), and how often the tool ran.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

from dbos import DBOS, SetWorkflowID  # noqa: E402
from pydantic_ai import Agent, AgentStreamEvent, RunContext  # noqa: E402
from pydantic_ai.messages import FunctionToolCallEvent, FunctionToolResultEvent  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402

impl, db_url, out = sys.argv[1:4]
if impl == 'pydantic_ai':
    from pydantic_ai.durable_exec.dbos import DBOSAgent  # pyright: ignore[reportDeprecated]
else:
    from durable_dbos import DBOSAgent

DBOS(config={'name': 'run-time-handler', 'system_database_url': db_url, 'log_level': 'WARNING'})
tool_runs: list[str] = []
agent = Agent(TestModel(custom_output_text='done'), name='run_time_handler')


@agent.tool_plain
def lookup(key: str) -> str:
    tool_runs.append(key)
    return f'value of {key}'


dbos_agent = DBOSAgent(agent)  # pyright: ignore[reportDeprecated]


seen: list[str] = []


async def record(ctx: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
    """At module level: 2.68 pickles `run()`'s arguments, the handler included, as the workflow's inputs."""
    async for event in events:
        if isinstance(event, FunctionToolCallEvent | FunctionToolResultEvent):
            seen.append(type(event).__name__)
        else:
            seen.append('model event')


@DBOS.workflow()
async def in_workflow(prompt: str) -> str:
    return (await dbos_agent.run(prompt, event_stream_handler=record)).output


async def main() -> dict[str, Any]:
    DBOS.launch()
    report: dict[str, Any] = {}
    try:
        with SetWorkflowID('outside-1'):
            result = await dbos_agent.run('look it up', event_stream_handler=record)
        report['outside'] = {'output': result.output, 'events': list(seen)}
        seen.clear()
        report['inside'] = {'output': await in_workflow('look it up again'), 'events': list(seen)}
    except Exception as error:
        report['error'] = f'{type(error).__name__}: {error}'
    report['tool_runs'] = tool_runs
    return report


Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
