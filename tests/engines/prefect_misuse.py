"""The misuse table on Prefect: each case is tried, and the error and what was journaled are reported.

Usage: prefect_misuse.py FORM PREFECT_API_URL OUT_JSON.
FORM `wrapper`: the cases of `PrefectAgent`. What a case journaled is counted through the Prefect client: flow runs
of the agent's flow and task runs of its units. Flow runs are created by the client before the flow's code runs, so
a refused case that started one is caught.
FORM `capability`: their twins in the capability form, `Agent(..., capabilities=[PrefectDurability(...)])`: each
bad config goes to `PrefectDurability`, and each run is the agent's own `run()` in a `@flow` of this driver's
(`misuse-container`), where the capability refuses what it refuses: at the agent's first run, for a bad config.
Then the capability form's own misuse. What a case journaled: the task runs of the container's flow runs (a subflow
makes one too), but the driver's own task.
Either table ends with a valid run, as a control that the count sees what a run journals (the test asserts it is
above zero).

Not in this table, unlike DBOS's: an agent created after launch (Prefect has no launch), and run_stream() inside a
flow (the user's flow is not the agent's flow: it works there), nor iter() inside a flow, which runs durably in the
flow's code (refused inside a task).
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

from _prefect_env import use_prefect_server

PREFECT_HOME = tempfile.mkdtemp(prefix='durable-misuse-prefect-')
atexit.register(shutil.rmtree, PREFECT_HOME, ignore_errors=True)
use_prefect_server(sys.argv[2], PREFECT_HOME, logging_level='CRITICAL')

import asyncio  # noqa: E402
import json  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

from _capability import parse_form  # noqa: E402
from _misuse import (  # noqa: E402
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
from _misuse import run_time_kwargs as misused  # noqa: E402
from durable_prefect import PrefectAgent, PrefectDurability, TaskConfig  # noqa: E402
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


CONTROL = 'a valid run (control)'


def wrapper_table() -> list[Case]:
    return [
        *construction_cases(PrefectAgent),
        Case(
            'duplicate agent name',
            construct(lambda: PrefectAgent(Agent(TestModel(), name=AGENT, tools=[another_tool]))),
            'unique name',
        ),
        *config_cases(with_config),
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
        Case(CONTROL, lambda: prefect_agent.run('Hi', deps=NO_DEPS), ''),
    ]


def config_cases(configured: Callable[..., Callable[[], Awaitable[Any]]]) -> list[Case]:
    """The task-config cases: `configured(**config)` builds an agent with the config, in either form."""
    return [
        Case('unknown task config key', configured(model_task_config={'retry': 3}), 'the keys are'),
        Case(
            'negative task retries', configured(tool_task_config={'retries': -1}), 'retries must be an int of 0 or more'
        ),
        Case('zero task timeout', configured(mcp_task_config={'timeout_seconds': 0}), 'must be a positive number'),
        Case(
            'cache policy that is not a CachePolicy',
            configured(model_task_config={'cache_policy': 'inputs'}),
            'such as durable_prefect.UNIT_INPUTS',
        ),
        Case('task config that is not a dict', configured(model_task_config=3), 'TaskConfig(retries=2)'),
        Case(
            'bad task config of one tool',
            configured(tool_task_config_by_name={'lookup': {'retry_delay_seconds': [1.0] * 51}}),
            'give fewer or one number',
        ),
    ]


CONTAINER = 'misuse-container'
CONTAINER_TASK = 'misuse-container-task'


@flow(name=CONTAINER, persist_result=False)
async def container(key: str) -> None:
    """The capability form's flow: the attempt `key` names, as an application's flow runs its agent."""
    await INSIDE.body(key)


@task(name=CONTAINER_TASK, persist_result=False)
async def container_task(key: str) -> None:
    """A task of the container flow, running the attempt `key` names."""
    await INSIDE_TASK.body(key)


INSIDE = Contained(container)
INSIDE_TASK = Contained(container_task)


def capability_table() -> list[Case]:
    """The capability form's cases, each run in a flow run of its own."""
    durability = PrefectDurability[Handle]()
    capable = Agent(TestModel(), name='misuse_capability', deps_type=Handle, capabilities=[durability])

    def with_durability(**config: Any) -> Callable[[], Awaitable[Any]]:
        return lambda: INSIDE.run(Agent(TestModel(), name='m_cfg', capabilities=[PrefectDurability(**config)]))

    async def duplicate_name() -> Any:
        # The capability's wrapper holds the name; it is built at the agent's first run, or when asked for.
        assert durability.durable_agent.name == 'misuse_capability'
        other = Agent(TestModel(), name='misuse_capability', tools=[another_tool], capabilities=[PrefectDurability()])
        return await INSIDE.run(other)

    return [
        *capability_construction_cases(PrefectDurability, INSIDE.run),
        Case('duplicate agent name', duplicate_name, 'unique name'),
        *config_cases(with_durability),
        *INSIDE.run_time_cases(capable, 'PrefectDurability', leave_out=NOT_IN_CAPABILITY_FORM['prefect']),
        Case(
            'override of the model inside a flow',
            INSIDE(lambda: misuse_entry_point(capable, 'override and run')),
            'models=',
        ),
        Case(
            'iter inside a task',
            INSIDE(INSIDE_TASK(lambda: misuse_entry_point(capable, 'iter'))),
            'Use run()',
        ),
        Case(
            'realtime session inside a flow',
            INSIDE(lambda: misuse_entry_point(capable, 'realtime session')),
            'outside the flow',
        ),
        *capability_only_cases(
            PrefectDurability, PrefectAgent, capable, INSIDE(durability_for_one_run(PrefectDurability))
        ),
        Case(
            'config for a tool the agent lacks',
            with_durability(tool_task_config_by_name={'get_wether': TaskConfig()}),
            'its function tools are',
        ),
        Case(CONTROL, INSIDE(lambda: capable.run('Hi', deps=NO_DEPS)), ''),
    ]


async def journaled() -> int:
    """Records of this agent on the server: runs of its flow, and task runs of its units."""
    async with get_client() as client:
        flow_runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[f'{AGENT}.run'])))
        task_runs = await client.read_task_runs(
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=f'{AGENT}.'))
        )
    return len(flow_runs) + len([run for run in task_runs if run.name.startswith(f'{AGENT}.')])


async def journaled_by_capabilities() -> int:
    """Records the capability form left: the task runs of the container's flow runs, but the driver's own task."""
    async with get_client() as client:
        task_runs = await client.read_task_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[CONTAINER])))
    return len([run for run in task_runs if not run.name.startswith(CONTAINER_TASK)])


async def main(form: str, out: Path) -> None:
    if form == 'wrapper':
        results = await run_cases('prefect', wrapper_table(), journaled)
    else:
        results = await run_cases('prefect', capability_table(), journaled_by_capabilities)
    out.write_text(json.dumps(results))


asyncio.run(main(parse_form(sys.argv[1]), Path(sys.argv[3])))
