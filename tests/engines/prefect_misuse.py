"""The misuse table on Prefect: each case is tried, and the error and what was journaled are reported.

Usage: prefect_misuse.py PREFECT_API_URL OUT_JSON. What a case journaled is counted through the Prefect client:
flow runs of the agent's flow and task runs of its units. Flow runs are created by the client before the flow's
code runs, so a refused case that started one is caught. The table ends with a valid run, as a control that
the count sees what a run journals (the test asserts it is above zero).

Not in this table, unlike DBOS's: an agent created after launch (Prefect has no launch), and run_stream() inside a
flow (the user's flow is not the agent's flow: it works there), nor iter() inside a flow, which runs durably in the
flow's code (refused inside a task).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _prefect_env import use_prefect_server

use_prefect_server(sys.argv[1], tempfile.mkdtemp(prefix='durable-misuse-prefect-'), logging_level='CRITICAL')

import asyncio  # noqa: E402
import json  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

from _misuse import NO_DEPS, Case, Handle, construct, construction_cases, misuse_entry_point, run_cases, run_time_cases  # noqa: E402
from _misuse import run_time_kwargs as misused  # noqa: E402
from durable_prefect import PrefectAgent  # noqa: E402
from prefect import flow, task  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.filters import (  # noqa: E402
    FlowFilter,
    FlowFilterName,
    TaskRunFilter,
    TaskRunFilterName,
)
from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402

AGENT = 'misuse_table'

agent = Agent(TestModel(), name=AGENT, deps_type=Handle)
prefect_agent = PrefectAgent(agent)


def another_tool() -> str:
    """A tool the table's agent does not have."""
    return 'other'


def with_config(**config: Any) -> Callable[[], Awaitable[Any]]:
    return construct(lambda: PrefectAgent(Agent(TestModel(), name='m_cfg'), **config))


async def run_case(name: str) -> Any:
    return await prefect_agent.run('Hi', **misused(name))


@task(persist_result=False)
async def in_task(entry_point: str) -> None:
    await misuse_entry_point(prefect_agent, entry_point)


@flow(name='misuse-table-user-flow', persist_result=False)
async def in_flow(entry_point: str) -> None:
    if entry_point == 'unregistered model':
        await prefect_agent.run('Hi', deps=NO_DEPS, model=TestModel())
    elif entry_point == 'iter in a task':
        await in_task('iter')
    else:
        await misuse_entry_point(prefect_agent, entry_point)


CASES = [
    *construction_cases(PrefectAgent),
    Case(
        'duplicate agent name',
        construct(lambda: PrefectAgent(Agent(TestModel(), name=AGENT, tools=[another_tool]))),
        'unique name',
    ),
    Case('unknown task config key', with_config(model_task_config={'retry': 3}), 'the keys are'),
    Case('negative task retries', with_config(tool_task_config={'retries': -1}), 'retries must be an int of 0 or more'),
    Case('zero task timeout', with_config(mcp_task_config={'timeout_seconds': 0}), 'must be a positive number'),
    Case(
        'cache policy that is not a CachePolicy',
        with_config(model_task_config={'cache_policy': 'inputs'}),
        'such as durable_prefect.UNIT_INPUTS',
    ),
    Case('task config that is not a dict', with_config(model_task_config=3), 'TaskConfig(retries=2)'),
    Case(
        'bad task config of one tool',
        with_config(tool_task_config_by_name={'lookup': {'retry_delay_seconds': [1.0] * 51}}),
        'give fewer or one number',
    ),
    *run_time_cases(run_case, 'PrefectAgent', in_process=True),
    Case(
        'unregistered model instance inside a flow',
        lambda: in_flow('unregistered model'),
        'models={"my_model": model}',
    ),
    Case('override of the model inside a flow', lambda: in_flow('override'), 'models='),
    Case('iter inside a task', lambda: in_flow('iter in a task'), 'Use run()'),
    Case('run_stream_events inside a flow', lambda: in_flow('run_stream_events'), 'event_stream_handler'),
    Case('realtime session inside a flow', lambda: in_flow('realtime'), 'outside the flow'),
]
CONTROL = [Case('a valid run (control)', lambda: prefect_agent.run('Hi', deps=NO_DEPS), '')]


async def journaled() -> int:
    """Records of this agent on the server: runs of its flow, and task runs of its units."""
    async with get_client() as client:
        flow_runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[f'{AGENT}.run'])))
        task_runs = await client.read_task_runs(
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=f'{AGENT}.'))
        )
    return len(flow_runs) + len([run for run in task_runs if run.name.startswith(f'{AGENT}.')])


async def main(out: Path) -> None:
    results = await run_cases('prefect', CASES, journaled)
    results += await run_cases('prefect', CONTROL, journaled)
    out.write_text(json.dumps(results))


asyncio.run(main(Path(sys.argv[2])))
