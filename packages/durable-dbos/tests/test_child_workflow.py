"""Tools run as DBOS child workflows in the capability form, `metadata={'dbos': {'child_workflow': ...}}`.

As PydanticAI 2.68's `DBOSDurability`: such a tool's call runs as a child workflow of the run's workflow (its own
workflow id, its timeout through `SetWorkflowTimeout`), registered when the agent is created; `SetToolMetadata` can
select the tools too. A recovered run does not run a finished child again (`test_a_killed_worker_...`, a real
SIGKILL). `DBOSAgent` ignores the metadata, as 2.68's does. Misuse is refused when the agent is created, or at its
first run, naming the fix.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _support import step_names
from dbos import DBOS
from durable_core import DurableUsageError
from durable_core.testing import DurableCallCounter, PreloadedPython
from durable_dbos import ChildWorkflowConfig, CreatedAfterLaunchWarning, DBOSAgent, DBOSDurability, StepConfig
from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.capabilities import SetToolMetadata
from pydantic_ai.models.test import TestModel
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import DynamicToolset, FunctionToolset

calls: list[str] = []


async def fetch(key: str) -> str:
    calls.append(f'start:{key}')
    await asyncio.sleep(0.01)  # long enough for a second call started at once to start too
    calls.append(f'end:{key}')
    return f'{key} fetched'


async def fetch_twice(key: str) -> str:
    return await fetch(key)


async def lookup(key: str) -> str:
    calls.append(f'lookup:{key}')
    return f'{key} found'


def child_workflow(**config: Any) -> dict[str, Any]:
    return {'dbos': {'child_workflow': ChildWorkflowConfig(**config)}}


# Created at import time, before the session's DBOS.launch(): they register their child workflows.
model = TestModel(call_tools=['fetch', 'fetch_twice'])
agent = Agent(
    model,
    name='child_agent',
    tools=[
        Tool(fetch, metadata=child_workflow(workflow_timeout_sec=30)),
        Tool(fetch_twice, metadata=child_workflow()),
    ],
    capabilities=[DBOSDurability()],
)
looked_up = FunctionToolset([lookup], id='lookups')
selected = Agent(
    TestModel(call_tools=['lookup']),
    name='child_selected',
    toolsets=[looked_up],
    capabilities=[SetToolMetadata(tools=['lookup'], dbos={'child_workflow': {}}), DBOSDurability()],
)
wrapped = DBOSAgent(
    Agent(TestModel(call_tools=['fetch']), name='child_wrapped', tools=[Tool(fetch, metadata=child_workflow())])
)


@DBOS.workflow()
async def run_agent(prompt: str) -> str:
    return (await agent.run(prompt)).output


@DBOS.workflow()
async def run_selected(prompt: str) -> str:
    return (await selected.run(prompt)).output


@DBOS.workflow()
async def run_with_set_metadata_for_the_run(prompt: str) -> str:
    set_metadata = SetToolMetadata[None](tools=['fetch'], dbos={'child_workflow': {}})
    return (await agent.run(prompt, capabilities=[set_metadata])).output


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()


async def test_each_call_runs_as_a_child_workflow_of_the_run_with_its_timeout(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(run_agent, 'Fetch.')

    assert await handle.get_result() == '{"fetch":"a fetched","fetch_twice":"a fetched"}'
    children = await DBOS.list_workflows_async(name='child_agent.child_workflow.agent', sort_desc=False)
    children = [child for child in children if child.parent_workflow_id == handle.workflow_id]
    assert [child.status for child in children] == ['SUCCESS', 'SUCCESS']
    # `fetch` has its timeout; `fetch_twice` none. Each child has its own workflow id, journaled in the parent.
    assert sorted(child.workflow_timeout_ms or 0 for child in children) == [0, 30_000]
    assert await step_names(handle.workflow_id) == [
        'child_agent.model_request',
        'child_agent.child_workflow.agent',
        'DBOS.getResult',
        'child_agent.child_workflow.agent',
        'DBOS.getResult',
        'child_agent.model_request',
    ]
    assert calls == ['start:a', 'end:a', 'start:a', 'end:a']
    # Each call runs alone (a barrier): DBOS numbers a child as it starts, so two started at once could start in
    # another order on recovery and swap results.
    parameters = model.last_model_request_parameters
    assert parameters is not None
    assert [(tool.name, tool.sequential) for tool in parameters.function_tools] == [
        ('fetch', True),
        ('fetch_twice', True),
    ]


async def test_set_tool_metadata_selects_a_tool_of_a_toolset(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(run_selected, 'Look up.')

    assert await handle.get_result() == '{"lookup":"a found"}'
    children = await DBOS.list_workflows_async(name='child_selected.child_workflow.lookups')
    assert handle.workflow_id in {child.parent_workflow_id for child in children}
    assert 'child_selected.child_workflow.lookups' in await step_names(handle.workflow_id)
    assert calls == ['lookup:a']


async def test_outside_a_workflow_the_tool_runs_in_the_run(dbos: DBOS) -> None:
    before = len(await DBOS.list_workflows_async())
    assert (await agent.run('Fetch.')).output == '{"fetch":"a fetched","fetch_twice":"a fetched"}'
    assert len(await DBOS.list_workflows_async()) == before


async def test_dbos_agent_ignores_the_metadata_as_2_68s_does(dbos: DBOS) -> None:
    result = await wrapped.run('Fetch.')
    assert result.output == '{"fetch":"a fetched"}'
    assert await DBOS.list_workflows_async(name='child_wrapped.child_workflow.agent') == []
    (run,) = await DBOS.list_workflows_async(name='child_wrapped.run')
    assert await step_names(run.workflow_id) == ['child_wrapped.model_request', 'child_wrapped.model_request']


async def test_a_set_tool_metadata_given_for_one_run_is_refused_before_its_first_step(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(run_with_set_metadata_for_the_run, 'Fetch.')
    with pytest.raises(DurableUsageError, match=r"sets 'dbos' was given for one run.*Agent\(\.\.\., capabilities="):
        await handle.get_result()
    assert await step_names(handle.workflow_id) == []
    assert calls == []


# ---- misuse, refused when the agent is created (or at its first run), before anything is registered ------------


def sync_fetch(key: str) -> str:
    return key


def dynamic_tools_func(ctx: RunContext[None]) -> FunctionToolset[None]:
    return FunctionToolset([fetch])


def select_all(ctx: RunContext[None], tool_def: ToolDefinition) -> bool:
    return True


@pytest.mark.parametrize(
    ('arguments', 'error'),
    [
        pytest.param(
            {'tools': [Tool(sync_fetch, metadata=child_workflow())]},
            r'only an async function tool can run as one: make it `async def sync_fetch',
            id='sync tool',
        ),
        pytest.param(
            {'tools': [Tool(fetch, metadata={'dbos': {'child_workflow': {}, 'retries': 2}})]},
            r"has the keys \['child_workflow', 'retries'\]: 'child_workflow' must be its only key",
            id='another dbos key',
        ),
        pytest.param(
            {'tools': [Tool(fetch, metadata={'dbos': {'child_workflow': {'timeout': 3}}})]},
            r"unknown ChildWorkflowConfig keys \['timeout'\]; the keys are \['workflow_timeout_sec'\]",
            id='unknown config key',
        ),
        pytest.param(
            {'tools': [Tool(fetch, metadata=child_workflow(workflow_timeout_sec=0))]},
            r'workflow_timeout_sec must be a positive number of seconds, got 0',
            id='bad timeout',
        ),
        pytest.param(
            {'toolsets': [FunctionToolset([Tool(fetch, metadata=child_workflow())])]},
            r"give the toolset an id, FunctionToolset\(\.\.\., id='my_toolset'\)",
            id='toolset without an id',
        ),
        pytest.param(
            {'tools': [fetch], 'capabilities': [SetToolMetadata(tools=select_all, dbos={'child_workflow': {}})]},
            r"selector function.*SetToolMetadata\(tools=\['my_tool'\], dbos=\.\.\.\)",
            id='selector function',
        ),
        pytest.param(
            {
                'toolsets': [DynamicToolset(dynamic_tools_func, id='dynamic_tools')],
                'capabilities': [SetToolMetadata(dbos={'child_workflow': {}})],
            },
            r'selects the tools of .* too: only async function tools run as child workflows',
            id='tools of another toolset',
        ),
    ],
)
def test_misuse_is_refused_when_the_agent_is_created(arguments: dict[str, Any], error: str) -> None:
    capabilities = [*arguments.pop('capabilities', []), DBOSDurability()]
    with pytest.raises(DurableUsageError, match=error):
        Agent(TestModel(), name='misused', capabilities=capabilities, **arguments)


async def test_a_tool_added_after_the_agent_was_created_is_refused_at_its_first_run() -> None:
    late = Agent(TestModel(), name='child_late', capabilities=[DBOSDurability()])
    late.tool_plain(metadata=child_workflow())(fetch)
    with pytest.raises(DurableUsageError, match=r'registered no child workflow when the agent was created.*Tool\('):
        await late.run('Fetch.')
    assert calls == []


async def test_a_tool_both_a_step_and_a_child_workflow_is_refused_at_its_first_run() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', CreatedAfterLaunchWarning)  # DBOS may be launched by now: not this test's
        both = Agent(
            TestModel(),
            name='child_both',
            tools=[Tool(fetch, metadata=child_workflow())],
            capabilities=[DBOSDurability(tool_step_config_by_name={'fetch': StepConfig()})],
        )
    with pytest.raises(DurableUsageError, match=r'a child workflow or a step, not both'):
        await both.run('Fetch.')
    assert calls == []


def test_an_agent_created_after_launch_with_child_workflows_warns(dbos: DBOS) -> None:
    with pytest.warns(CreatedAfterLaunchWarning, match=r'child workflows.*before DBOS.launch\(\)'):
        Agent(
            TestModel(),
            name='child_after_launch',
            tools=[Tool(fetch, metadata=child_workflow())],
            capabilities=[DBOSDurability()],
        )
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        Agent(TestModel(), name='plain_after_launch', tools=[fetch], capabilities=[DBOSDurability()])


# ---- recovery: a real SIGKILL of a worker process -----------------------------------------------------------

WORKER = Path(__file__).parent / 'workers' / 'child_workflow_worker.py'


def test_a_killed_worker_does_not_run_a_finished_child_again_and_resumes_a_pending_one(
    dbos_config: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    db_url = dbos_config()['system_database_url']
    counter = DurableCallCounter(tmp_path / 'calls.log')
    workflow_id = f'child-{uuid.uuid4()}'

    def command(mode: str) -> list[str]:
        return [sys.executable, str(WORKER), mode, db_url, str(counter.path), workflow_id]

    first = PreloadedPython.shared().popen(command('start'), stdout=subprocess.DEVNULL)
    try:
        # The second child's step has committed, and the child hangs after it: kill the worker there.
        counter.wait_for('fetch_blocked:b', timeout=120)
        first.kill()  # SIGKILL
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    assert counter.counts() == {
        'model:1': 1,
        'fetch:a': 1,
        'step:a': 1,
        'fetch_done:a': 1,
        'model:2': 1,
        'fetch:b': 1,
        'step:b': 1,
        'fetch_blocked:b': 1,
    }

    done = PreloadedPython.shared().run(command('recover'), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]

    assert done.stdout.strip().splitlines()[-1] == 'SUCCESS fetched a and b'
    counts = counter.counts()
    # The finished child `a` did not run again; the pending child `b` resumed, its committed step not repeated.
    assert counts['fetch:a'] == 1
    assert counts['step:a'] == 1
    assert counts['step:b'] == 1
    assert counts['fetch:b'] == 2
    assert counts['fetch_done:b'] == 1
    assert counts['model:1'] == 1
    assert counts['model:2'] == 1
    assert counts['model:3'] == 1
