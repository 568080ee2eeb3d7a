"""`run(event_stream_handler=...)` on DBOS, with PydanticAI 2.68's `durable_exec` or ours, in either form.

Usage: dbos_run_time_handler.py FORM IMPL DB_URL OUT_JSON, where FORM is `wrapper` (`DBOSAgent`) or `capability`
(`DBOSDurability` on the agent) and IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`. The program is the same
for all four: a durable agent with one tool and no handler of its own is run twice with a handler passed to `run()`,
once from outside any workflow and once from workflow code. The report holds each run's output or error and the
events its handler saw (kind), how often the tool ran, and the step names of the run in workflow code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

from _dbos_program import durability, durable, program_arguments  # noqa: E402
from dbos import DBOS, SetWorkflowID  # noqa: E402
from pydantic_ai import Agent, AgentStreamEvent, RunContext  # noqa: E402
from pydantic_ai.messages import FunctionToolCallEvent, FunctionToolResultEvent  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402

form, impl, db_url, out = program_arguments()

DBOS(config={'name': f'{form}-run-time-handler', 'system_database_url': db_url, 'log_level': 'WARNING'})
tool_runs: list[str] = []
agent = Agent(TestModel(custom_output_text='done'), name='run_time_handler', capabilities=durability(impl, form))


@agent.tool_plain
def lookup(key: str) -> str:
    tool_runs.append(key)
    return f'value of {key}'


durable_agent: Any = durable(impl, form, agent)
seen: list[str] = []


async def record(ctx: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
    """At module level: 2.68's wrapper pickles `run()`'s arguments, the handler included, as the workflow's inputs."""
    async for event in events:
        if isinstance(event, FunctionToolCallEvent | FunctionToolResultEvent):
            seen.append(type(event).__name__)
        else:
            seen.append('model event')


@DBOS.workflow()
async def in_workflow(prompt: str) -> str:
    return (await durable_agent.run(prompt, event_stream_handler=record)).output


async def observed(run: Any) -> dict[str, Any]:
    seen.clear()
    try:
        return {'output': await run, 'events': list(seen)}
    except Exception as error:
        return {'error': f'{type(error).__name__}: {error}', 'events': list(seen)}


async def outside(prompt: str) -> str:
    if form == 'wrapper':  # the wrapper's run is a workflow of its own, here given an id; the capability's is none
        with SetWorkflowID('outside-1'):
            return (await durable_agent.run(prompt, event_stream_handler=record)).output
    return (await durable_agent.run(prompt, event_stream_handler=record)).output


async def main() -> dict[str, Any]:
    DBOS.launch()
    report: dict[str, Any] = {'outside': await observed(outside('look it up'))}
    with SetWorkflowID('inside-1'):
        report['inside'] = await observed(in_workflow('look it up again'))
    steps = await DBOS.list_workflow_steps_async('inside-1')
    report['steps'] = [step['function_name'] for step in steps]
    report['tool_runs'] = tool_runs
    return report


Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
