"""The misuse table on DBOS: each case is tried, and the error and what was journaled are reported.

Usage: dbos_misuse.py FORM DB_URL OUT_JSON.
FORM `wrapper`: the cases of `DBOSAgent`. Agents that run-time cases need are built before DBOS.launch().
FORM `capability`: their twins in the capability form, `Agent(..., capabilities=[DBOSDurability(...)])`: each bad
config goes to `DBOSDurability`, and each run is the agent's own `run()` in a `@DBOS.workflow` of this driver's
(`misuse_container`), where the capability refuses what it refuses: at the agent's first run, for a bad config.
Then the capability form's own misuse, and a valid run as a control that the count sees what a run journals.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from _capability import parse_form
from _misuse import (
    NO_DEPS,
    NOT_IN_CAPABILITY_FORM,
    Case,
    Contained,
    Handle,
    capability_construction_cases,
    capability_only_cases,
    construct,
    construction_cases,
    durability_for_one_run,
    misuse_entry_point,
    run_cases,
    run_time_cases,
)
from _misuse import run_time_kwargs as misused
from dbos import DBOS
from durable_dbos import DBOSAgent, DBOSDurability, StepConfig
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset

CONTAINER = 'misuse_container'
CONTROL = 'a valid run (control)'

agent = Agent(TestModel(), name='misuse_table', deps_type=Handle)
dbos_agent = DBOSAgent(agent)


async def run_case(name: str) -> Any:
    return await dbos_agent.run('Hi', **misused(name))


@DBOS.workflow(name='misuse_table.user_workflow')
async def in_workflow(entry_point: str) -> None:
    await misuse_entry_point(dbos_agent, entry_point)


def wrapper_table() -> tuple[list[Case], list[Case]]:
    """The wrapper's cases, those tried before DBOS.launch() and those after."""
    before_launch = [
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
        Case(
            'duplicate agent name', construct(lambda: DBOSAgent(Agent(TestModel(), name='misuse_table'))), 'unique name'
        ),
        Case(
            'unknown step config key',
            construct(lambda: DBOSAgent(Agent(TestModel(), name='m_cfg'), model_step_config={'retry': 3})),  # type: ignore[typeddict-unknown-key]
            'the keys are',
        ),
    ]
    after_launch = [
        *run_time_cases(run_case, 'DBOSAgent', in_process=True),
        Case('run_stream inside a workflow', lambda: in_workflow('run_stream'), 'event_stream_handler'),
        Case('run_stream_events inside a workflow', lambda: in_workflow('run_stream_events'), 'event_stream_handler'),
        Case('override of the model inside a workflow', lambda: in_workflow('override'), 'models='),
        Case('realtime session inside a workflow', lambda: in_workflow('realtime'), 'outside the workflow'),
        Case(CONTROL, lambda: dbos_agent.run('Hi', deps=NO_DEPS), ''),
    ]
    return before_launch, after_launch


@DBOS.workflow(name=CONTAINER)
async def container(key: str) -> None:
    """The capability form's workflow: the attempt `key` names, as an application's workflow runs its agent."""
    await INSIDE.body(key)


INSIDE = Contained(container)


def capability_table() -> list[Case]:
    """The capability form's cases, all tried after DBOS.launch(), each run in a workflow of its own."""
    durability = DBOSDurability[Handle]()
    capable = Agent(TestModel(), name='misuse_capability', deps_type=Handle, capabilities=[durability])

    def with_durability(name: str, **config: Any) -> Any:
        return INSIDE.run(Agent(TestModel(), name=name, capabilities=[DBOSDurability(**config)]))

    async def duplicate_name() -> Any:
        # The capability's wrapper holds the name; it is built at the agent's first run, or when asked for.
        assert durability.durable_agent.name == 'misuse_capability'
        return await INSIDE.run(Agent(TestModel(), name='misuse_capability', capabilities=[DBOSDurability()]))

    return [
        *capability_construction_cases(DBOSDurability, INSIDE.run, tools_inline=True),
        Case(
            'toolset without id whose tools are steps',
            lambda: INSIDE.run(
                Agent(
                    TestModel(),
                    name='m_no_id_steps',
                    toolsets=[FunctionToolset[None]()],
                    capabilities=[DBOSDurability(tool_step_config={})],
                )
            ),
            "FunctionToolset(..., id='my_toolset')",
        ),
        Case('duplicate agent name', duplicate_name, 'unique name'),
        Case(
            'unknown step config key', lambda: with_durability('m_cfg', model_step_config={'retry': 3}), 'the keys are'
        ),
        *INSIDE.run_time_cases(capable, 'DBOSDurability', leave_out=NOT_IN_CAPABILITY_FORM['dbos-sqlite']),
        Case(
            'override of the model inside a workflow',
            INSIDE(lambda: misuse_entry_point(capable, 'override and run')),
            'models=',
        ),
        Case(
            'realtime session inside a workflow',
            INSIDE(lambda: misuse_entry_point(capable, 'realtime session')),
            'outside the workflow',
        ),
        *capability_only_cases(DBOSDurability, DBOSAgent, capable, INSIDE(durability_for_one_run(DBOSDurability))),
        Case(
            'config for a tool the agent lacks',
            lambda: with_durability('m_lacks', tool_step_config_by_name={'get_wether': StepConfig()}),
            'its function tools are',
        ),
        Case(CONTROL, INSIDE(lambda: capable.run('Hi', deps=NO_DEPS)), ''),
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


async def journaled_by_capabilities() -> int:
    """Records the capability form left: any workflow but the containers (it starts none), and every step."""
    workflows = await DBOS.list_workflows_async()
    count = sum(1 for workflow in workflows if workflow.name != CONTAINER)
    for workflow in workflows:
        count += len(await DBOS.list_workflow_steps_async(workflow.workflow_id))
    return count


async def main(form: str, out: Path) -> None:
    if form == 'wrapper':
        before_launch, after_launch = wrapper_table()
        results = await run_cases('dbos', before_launch, None)
        DBOS.launch()
        results += await run_cases('dbos', after_launch, journaled)
    else:
        DBOS.launch()
        results = await run_cases('dbos', capability_table(), journaled_by_capabilities)
    out.write_text(json.dumps(results))


DBOS(config={'name': 'misuse-table', 'system_database_url': sys.argv[2], 'log_level': 'ERROR'})
asyncio.run(main(parse_form(sys.argv[1]), Path(sys.argv[3])))
DBOS.destroy()
