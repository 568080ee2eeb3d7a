"""The misuse table on DBOS: each case is tried, and the error and what was journaled are reported.

Usage: dbos_misuse.py DB_URL OUT_JSON. Agents that run-time cases need are built before DBOS.launch().
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from _misuse import Case, Handle, construct, construction_cases, misuse_entry_point, run_cases, run_time_cases
from _misuse import run_time_kwargs as misused
from dbos import DBOS
from durable_dbos import DBOSAgent
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset

agent = Agent(TestModel(), name='misuse_table', deps_type=Handle)
dbos_agent = DBOSAgent(agent)


async def run_case(name: str) -> Any:
    return await dbos_agent.run('Hi', **misused(name))


@DBOS.workflow(name='misuse_table.user_workflow')
async def in_workflow(entry_point: str) -> None:
    await misuse_entry_point(dbos_agent, entry_point)


BEFORE_LAUNCH = [
    *construction_cases(DBOSAgent, tools_inline=True),
    Case(
        'toolset without id whose tools are steps',
        construct(
            lambda: DBOSAgent(
                Agent(TestModel(), name='m_no_id_steps', toolsets=[FunctionToolset[None]()]), tool_step_config={}
            )
        ),
        "FunctionToolset(..., id='my_toolset')",
    ),
    Case('duplicate agent name', construct(lambda: DBOSAgent(Agent(TestModel(), name='misuse_table'))), 'unique name'),
    Case(
        'unknown step config key',
        construct(lambda: DBOSAgent(Agent(TestModel(), name='m_cfg'), model_step_config={'retry': 3})),  # type: ignore[typeddict-unknown-key]
        'the keys are',
    ),
]
AFTER_LAUNCH = [
    *run_time_cases(run_case, 'DBOSAgent', in_process=True),
    Case('run_stream inside a workflow', lambda: in_workflow('run_stream'), 'event_stream_handler'),
    Case('run_stream_events inside a workflow', lambda: in_workflow('run_stream_events'), 'event_stream_handler'),
    Case('override of the model inside a workflow', lambda: in_workflow('override'), 'models='),
    Case('realtime session inside a workflow', lambda: in_workflow('realtime'), 'outside the workflow'),
]


async def journaled() -> int:
    """Records this agent left: its workflows and the steps of any workflow named after it."""
    workflows = await DBOS.list_workflows_async()
    count = sum(1 for workflow in workflows if (workflow.name or '').startswith('misuse_table.run'))
    for workflow in workflows:
        steps = await DBOS.list_workflow_steps_async(workflow.workflow_id)
        count += sum(
            1
            for step in steps
            if step['function_name'].startswith('misuse_table.') and 'user_workflow' not in step['function_name']
        )
    return count


async def main(out: Path) -> None:
    results = await run_cases('dbos', BEFORE_LAUNCH, None)
    DBOS.launch()
    results += await run_cases('dbos', AFTER_LAUNCH, journaled)
    out.write_text(json.dumps(results))


DBOS(config={'name': 'misuse-table', 'system_database_url': sys.argv[1], 'log_level': 'ERROR'})
asyncio.run(main(Path(sys.argv[2])))
DBOS.destroy()
