"""The capability form on DBOS, `Agent(..., capabilities=[DBOSDurability(...)])`, with PydanticAI 2.68's or ours.

Usage: dbos_capability.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`.
The program is the same for both: an agent with a tool and the capability (with an event handler) runs in the app's
own workflow; the workflow is then forked at its last step, so DBOS runs it again reading the earlier steps back
from its journal (the tool runs in workflow code, so it runs again); and the agent runs once outside any workflow.
The report holds, for each run, the output, the model requests and tool calls counted at their source, and the
kinds of events the handler got; and the step names.
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
from durable_core.testing import ScriptedModel, Step, ToolCall  # noqa: E402
from pydantic_ai import Agent, AgentStreamEvent, RunContext  # noqa: E402

impl, db_url, out = sys.argv[1:4]
if impl == 'pydantic_ai':
    from pydantic_ai.durable_exec.dbos import DBOSDurability
else:
    from durable_dbos import DBOSDurability

DBOS(config={'name': 'capability-compat', 'system_database_url': db_url, 'log_level': 'WARNING'})
counts = {'model': 0, 'tool': 0}
events: list[str] = []


def count_request() -> None:
    counts['model'] += 1


model = ScriptedModel(
    [
        Step(tool_calls=[ToolCall('lookup', {'key': 'a'})], before=count_request),
        Step(text='the answer', before=count_request),
    ],
    position='history',  # a request read back from the journal would not move a 'calls' script on
)


async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in stream:
        events.append(type(event).__name__)


agent = Agent(model, name='capability_compat', capabilities=[DBOSDurability(event_stream_handler=record)])


@agent.tool_plain
def lookup(key: str) -> str:
    counts['tool'] += 1
    return f'value of {key}'


@DBOS.workflow()
async def app_workflow(prompt: str) -> str:
    return (await agent.run(prompt)).output


def observed(output: str) -> dict[str, Any]:
    seen = {'output': output, **counts, 'events': sorted(set(events))}
    counts.update(model=0, tool=0)
    events.clear()
    return seen


async def main() -> dict[str, Any]:
    DBOS.launch()
    report: dict[str, Any] = {}
    with SetWorkflowID('capability-1'):
        report['in_workflow'] = observed(await app_workflow('look it up'))
    steps = await DBOS.list_workflow_steps_async('capability-1')
    report['steps'] = [step['function_name'] for step in steps]
    # Run again from its last step (the final model request): the steps before it are read back from the journal.
    forked = await DBOS.fork_workflow_async('capability-1', steps[-1]['function_id'])
    report['forked'] = observed(await forked.get_result())
    report['outside'] = observed((await agent.run('look it up')).output)
    return report


Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
