"""Misuse of DBOSAgent is refused early, with an error that names the fix, and nothing is journaled."""

from __future__ import annotations

import asyncio
import inspect
import socket
import uuid
from dataclasses import dataclass
from typing import Any, cast

import pytest
from _support import SwappableModel
from conftest import DbosBackend
from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync
from durable_core import DurableNameError, DurableUsageError, NotInDurableUnitError, UnserializableError
from durable_dbos import CreatedAfterLaunchWarning, DBOSAgent, StepConfig
from pydantic_ai import Agent, AgentRunResult, RunContext
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset

model = SwappableModel()


@dataclass
class Handle:
    connection: Any


agent = Agent(model, name='misuse', deps_type=Handle)
misuse_agent = DBOSAgent(agent)


@DBOS.workflow()
async def streams_in_workflow(entry_point: str) -> str:
    if entry_point == 'run_stream':
        async with misuse_agent.run_stream('Hi'):
            pass
    elif entry_point == 'run_stream_events':
        async for _ in misuse_agent.run_stream_events('Hi'):
            pass
    else:
        with misuse_agent.override(model=TestModel()):
            pass
    return 'unreachable'


iter_agent = DBOSAgent(Agent(TestModel(), name='iter_at_once'))
outer_agent = Agent(TestModel(), name='iter_outer')


@outer_agent.tool_plain
async def ask_inner() -> str:
    """Runs another agent's `iter()` from workflow code, inside this run (which waits for it)."""
    async with iter_agent.iter('Inner') as run:
        async for _ in run:
            pass
    assert run.result is not None
    return run.result.output


outer = DBOSAgent(outer_agent)


async def _iterate(prompt: str) -> str:
    async with iter_agent.iter(prompt) as run:
        async for _ in run:
            pass
    assert run.result is not None
    return run.result.output


@DBOS.workflow()
async def two_iters_at_once(prompt: str) -> list[str]:
    return list(await asyncio.gather(_iterate(prompt), _iterate(prompt)))


@DBOS.workflow()
async def run_inside_a_run(prompt: str) -> str:
    return (await outer.run(prompt)).output


async def _agent_workflows() -> int:
    return len(await DBOS.list_workflows_async(name='misuse.run'))


def test_missing_agent_name() -> None:
    with pytest.raises(DurableNameError, match=r"needs a agent name.*Agent\(\.\.\., name='my_agent'\)"):
        DBOSAgent(Agent(TestModel()))


def test_malformed_agent_name() -> None:
    with pytest.raises(DurableNameError, match='not a valid durable name'):
        DBOSAgent(Agent(TestModel(), name='has spaces'))


def test_duplicate_agent_name() -> None:
    with pytest.raises(DurableNameError, match=r"already named 'misuse'.*unique name"):
        DBOSAgent(Agent(TestModel(), name='misuse'))


# DBOS may be launched by an earlier test: a late agent is not what this test is about.
@pytest.mark.filterwarnings('ignore::durable_dbos.CreatedAfterLaunchWarning')
def test_toolset_without_id_whose_tools_are_steps() -> None:
    # Without tool_step_config its tools run in workflow code, as 2.68 runs them, and it needs no id.
    DBOSAgent(Agent(TestModel(), name='no_toolset_id_inline', toolsets=[FunctionToolset[None]()]))
    with pytest.raises(DurableNameError, match=r"FunctionToolset\(\.\.\., id='my_toolset'\)"):
        DBOSAgent(
            Agent(TestModel(), name='no_toolset_id', toolsets=[FunctionToolset[None]()]), tool_step_config=StepConfig()
        )


def _same_qualname() -> Any:
    def tools(ctx: RunContext[None]) -> FunctionToolset[None]:
        return FunctionToolset()

    return tools


def test_dynamic_toolsets_whose_derived_ids_collide() -> None:
    """A dynamic toolset without an id takes its function's qualified name; two alike are refused, naming the fix."""
    dynamic_agent = Agent(TestModel(), name='derived_twins', toolsets=[_same_qualname(), _same_qualname()])
    with pytest.raises(DurableNameError, match=r"'_same_qualname-tools'.*give one an id: @agent.toolset\(id="):
        DBOSAgent(dynamic_agent)


def test_duplicate_toolset_ids() -> None:
    toolsets = [FunctionToolset[None](id='same'), FunctionToolset[None](id='same')]
    with pytest.raises(DurableNameError, match="both 'same'"):
        DBOSAgent(Agent(TestModel(), name='two_toolsets', toolsets=toolsets))


def test_reserved_model_key() -> None:
    with pytest.raises(DurableNameError, match="'default' is reserved"):
        DBOSAgent(Agent(TestModel(), name='reserved_key'), models={'default': TestModel()})


def test_bad_parallel_execution_mode() -> None:
    with pytest.raises(DurableUsageError, match='parallel_execution_mode'):
        DBOSAgent(Agent(TestModel(), name='bad_mode'), parallel_execution_mode='parallel')  # type: ignore[arg-type]


async def test_agent_created_after_launch_warns_and_runs(dbos: DBOS, dbos_backend: DbosBackend) -> None:
    """Like DBOS with a configured instance registered after launch: a warning that names the fix, then it works."""
    name = f'too_late_{dbos_backend.name}'
    with pytest.warns(
        CreatedAfterLaunchWarning, match=r'after DBOS.launch\(\).*before calling DBOS.launch\(\)'
    ) as caught:
        late = DBOSAgent(Agent(TestModel(), name=name))
    assert [warning.filename for warning in caught] == [__file__]  # it points at the line that created the agent
    workflow_id = f'late-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await late.run('Hi')
    assert result.output == 'success (no tool calls)'
    workflows = await DBOS.list_workflows_async(name=f'{name}.run')
    assert [(workflow.workflow_id, workflow.status) for workflow in workflows] == [(workflow_id, 'SUCCESS')]
    # Its result reads back through DBOS's own handle, rebuilt by the late agent.
    handle: WorkflowHandleAsync[Any] = await DBOS.retrieve_workflow_async(workflow_id)
    retrieved = cast(AgentRunResult[str], await handle.get_result())
    assert retrieved.output == 'success (no tool calls)'


async def test_unserializable_deps_fail_before_anything_is_journaled(dbos: DBOS) -> None:
    before = await _agent_workflows()
    with socket.socket() as sock, pytest.raises(UnserializableError, match=r'deps of type Handle.*deps_type'):
        await misuse_agent.run('Hi', deps=Handle(connection=sock))
    assert await _agent_workflows() == before


async def test_unregistered_model_instance(dbos: DBOS) -> None:
    before = await _agent_workflows()
    with pytest.raises(DurableUsageError, match=r'not registered.*models=\{"my_model": model\}'):
        await misuse_agent.run('Hi', model=TestModel(), deps=Handle(connection=None))
    assert await _agent_workflows() == before


async def test_toolsets_at_run_time(dbos: DBOS) -> None:
    before = await _agent_workflows()
    with pytest.raises(DurableUsageError, match=r'Toolsets passed at run time.*Agent\(\.\.\., toolsets='):
        await misuse_agent.run('Hi', toolsets=[FunctionToolset(id='late')], deps=Handle(connection=None))
    assert await _agent_workflows() == before


async def test_run_time_arguments_that_cannot_be_journaled(dbos: DBOS) -> None:
    with pytest.raises(DurableUsageError, match=r'output_type= cannot be journaled.*on the `Agent` itself'):
        await misuse_agent.run('Hi', output_type=int, deps=Handle(connection=None))


@pytest.mark.skipif('compact' not in inspect.signature(Agent.run).parameters, reason='compact= is PydanticAI 2.78+')
async def test_compact_at_run_time_is_refused(dbos: DBOS) -> None:
    before = await _agent_workflows()
    with pytest.raises(DurableUsageError, match=r'compact= cannot be journaled.*`compact_history\(\)`'):
        await misuse_agent.run('Hi', compact=True, deps=Handle(connection=None))
    assert await _agent_workflows() == before


@pytest.mark.parametrize('entry_point', ['run_stream', 'run_stream_events', 'override'])
async def test_entry_points_not_supported_in_a_workflow(dbos: DBOS, entry_point: str) -> None:
    with SetWorkflowID(f'misuse-{entry_point}-{uuid.uuid4()}'), pytest.raises(NotInDurableUnitError) as error:
        await streams_in_workflow(entry_point)
    assert 'inside a DBOS workflow' in str(error.value)
    assert ('event_stream_handler' if entry_point != 'override' else 'models=') in str(error.value)


def test_a_config_for_a_tool_the_agent_does_not_have_is_refused_naming_its_tools() -> None:
    agent = Agent(TestModel(), name='misuse_typo')

    @agent.tool_plain
    def get_weather(city: str) -> str:
        return city

    with pytest.raises(
        DurableNameError, match=r"tool_step_config_by_name names the tool 'get_wether'.*\['get_weather'\]"
    ):
        DBOSAgent(agent, tool_step_config_by_name={'get_wether': None})


async def test_two_iters_at_once_in_one_workflow_are_refused_naming_a_workflow_each(dbos: DBOS) -> None:
    # They would share the workflow's journal in whatever order their steps start: a recovery could swap their data.
    handle = await DBOS.start_workflow_async(two_iters_at_once, 'Hi')
    with pytest.raises(DurableUsageError, match=r'under way in the DBOS workflow.*a workflow of its own'):
        await handle.get_result()


async def test_a_run_inside_a_run_from_a_tool_in_workflow_code_is_accepted(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(run_inside_a_run, 'Hi')
    assert await handle.get_result() == '{"ask_inner":"success (no tool calls)"}'
