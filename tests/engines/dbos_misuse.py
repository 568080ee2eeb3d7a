"""The misuse table on DBOS: each case is tried, and the error and what was journaled are reported.

Usage: dbos_misuse.py DB_URL OUT_JSON. Agents that run-time cases need are built before DBOS.launch().
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _misuse import Case, run_cases
from dbos import DBOS
from durable_dbos import DBOSAgent
from pydantic_ai import Agent, RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset


@dataclass
class Handle:
    resource: Any


agent = Agent(TestModel(), name='misuse_table', deps_type=Handle)
dbos_agent = DBOSAgent(agent)
NO_DEPS = Handle(resource=None)


def construct(build: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def attempt() -> Any:
        return build()

    return attempt


def twin(toolset_id: str) -> FunctionToolset[None]:
    return FunctionToolset[None](id=toolset_id)


def dynamic_without_id() -> Any:
    dynamic = Agent(TestModel(), name='misuse_dynamic')

    @dynamic.toolset
    def tools(ctx: RunContext[None]) -> FunctionToolset[None]:
        return FunctionToolset()

    return DBOSAgent(dynamic)


async def run_with(**kwargs: Any) -> Any:
    return await dbos_agent.run('Hi', **{'deps': NO_DEPS, **kwargs})


async def unserializable_deps() -> Any:
    with socket.socket() as sock:
        return await dbos_agent.run('Hi', deps=Handle(resource=sock))


async def noop_handler(ctx: RunContext[Any], events: Any) -> None:
    pass


@DBOS.workflow(name='misuse_table.user_workflow')
async def in_workflow(entry_point: str) -> None:
    if entry_point == 'run_stream':
        async with dbos_agent.run_stream('Hi', deps=NO_DEPS):
            pass
    elif entry_point == 'run_stream_events':
        async for _ in dbos_agent.run_stream_events('Hi', deps=NO_DEPS):
            pass
    elif entry_point == 'override':
        with dbos_agent.override(model=TestModel()):
            pass


BEFORE_LAUNCH = [
    Case('missing agent name', construct(lambda: DBOSAgent(Agent(TestModel()))), "name='my_agent'"),
    Case('malformed agent name', construct(lambda: DBOSAgent(Agent(TestModel(), name='two words'))), 'letters, digits'),
    Case('duplicate agent name', construct(lambda: DBOSAgent(Agent(TestModel(), name='misuse_table'))), 'unique name'),
    Case(
        'toolset without id',
        construct(lambda: DBOSAgent(Agent(TestModel(), name='m_no_id', toolsets=[FunctionToolset[None]()]))),
        "FunctionToolset(..., id='my_toolset')",
    ),
    Case(
        'duplicate toolset id',
        construct(
            lambda: DBOSAgent(
                Agent(
                    TestModel(),
                    name='m_dup_id',
                    toolsets=[FunctionToolset[None](id='x'), FunctionToolset[None](id='x')],
                )
            )
        ),
        'each must be unique',
    ),
    Case('dynamic toolset without id', construct(dynamic_without_id), "@agent.toolset(id='my_toolset')"),
    Case(
        'reserved model key',
        construct(lambda: DBOSAgent(Agent(TestModel(), name='m_key'), models={'default': TestModel()})),
        'Choose another key',
    ),
    Case(
        'unknown parallel execution mode',
        construct(lambda: DBOSAgent(Agent(TestModel(), name='m_mode'), parallel_execution_mode='fast')),  # type: ignore[arg-type]
        "'parallel_ordered_events' or 'sequential'",
    ),
    Case(
        'unknown step config key',
        construct(lambda: DBOSAgent(Agent(TestModel(), name='m_cfg'), model_step_config={'retry': 3})),  # type: ignore[typeddict-unknown-key]
        'the keys are',
    ),
]
AFTER_LAUNCH = [
    Case(
        'agent created after launch',
        construct(lambda: DBOSAgent(Agent(TestModel(), name='m_late'))),
        'before calling DBOS.launch()',
    ),
    Case('deps that cannot be serialized', unserializable_deps, 'deps_type'),
    Case('unregistered model instance', lambda: run_with(model=TestModel()), 'models={"my_model": model}'),
    Case('toolsets at run time', lambda: run_with(toolsets=[FunctionToolset(id='late')]), 'Agent(..., toolsets=[...])'),
    Case(
        'event handler at run time',
        lambda: run_with(event_stream_handler=noop_handler),
        'DBOSAgent(agent, event_stream_handler=handler)',
    ),
    Case('output type at run time', lambda: run_with(output_type=int), 'on the `Agent` itself'),
    Case('capabilities at run time', lambda: run_with(capabilities=[AbstractCapability()]), 'to the `Agent` itself'),
    Case(
        'headers in run model settings',
        lambda: run_with(model_settings={'extra_headers': {'Authorization': 'x'}}),
        'default_headers',
    ),
    Case('run_stream inside a workflow', lambda: in_workflow('run_stream'), 'event_stream_handler'),
    Case('run_stream_events inside a workflow', lambda: in_workflow('run_stream_events'), 'event_stream_handler'),
    Case('override of the model inside a workflow', lambda: in_workflow('override'), 'models='),
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
    out.write_text(__import__('json').dumps(results))


DBOS(config={'name': 'misuse-table', 'system_database_url': sys.argv[1], 'log_level': 'ERROR'})
asyncio.run(main(Path(sys.argv[2])))
DBOS.destroy()
