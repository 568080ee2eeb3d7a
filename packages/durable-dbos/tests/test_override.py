"""`override()` inside a DBOS workflow: deps, a registered model, and toolsets and tools the agent has are durable
(a run started there is a child workflow that journals the overridden deps and model); the rest is refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from _support import step_names
from dbos import DBOS, SetWorkflowID
from durable_core import NotInDurableUnitError
from durable_dbos import DBOSAgent
from pydantic_ai import Agent, RunContext
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset


@dataclass
class User:
    name: str


seen: list[str] = []
people = FunctionToolset[User](id='people')


@people.tool
def whoami(ctx: RunContext[User]) -> str:
    seen.append(ctx.deps.name)
    return f'you are {ctx.deps.name}'


fast = TestModel(custom_output_text='fast answer', call_tools=[])
agent = Agent(TestModel(), name='override_dbos', deps_type=User, toolsets=[people])
durable = DBOSAgent(agent, models={'fast': fast})


@DBOS.workflow(name='override_dbos.user_workflow')
async def user_workflow(case: str) -> str:
    if case == 'deps':
        with durable.override(deps=User('Grace')):
            return (await durable.run('Who?', deps=User('Ada'))).output
    if case == 'model':
        with durable.override(model='fast'):
            return (await durable.run('Hi', deps=User('Ada'))).output
    if case == 'no toolsets':
        with durable.override(toolsets=[]):
            return (await durable.run('Hi', deps=User('Ada'))).output
    with durable.override(toolsets=[FunctionToolset[User](id='late')]):
        return 'unreachable'


@pytest.fixture(autouse=True)
def _clear() -> None:
    seen.clear()


async def _child(workflow_id: str) -> str:
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    [child] = [step['child_workflow_id'] for step in steps if step['function_name'] == 'override_dbos.run']
    assert child is not None
    return child


async def test_deps_override_is_journaled_with_the_child_run(dbos: DBOS) -> None:
    workflow_id = f'override-deps-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        output = await user_workflow('deps')
    assert 'you are Grace' in output
    assert seen == ['Grace']
    status = await DBOS.get_workflow_status_async(await _child(workflow_id))
    assert status is not None
    assert 'Grace' in str(status.input)
    assert 'Ada' not in str(status.input)


async def test_a_registered_model_override_runs_in_the_model_step(dbos: DBOS) -> None:
    workflow_id = f'override-model-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        assert await user_workflow('model') == 'fast answer'
    child = await _child(workflow_id)
    assert await step_names(child) == ['override_dbos.model_request']
    status = await DBOS.get_workflow_status_async(child)
    assert status is not None
    assert "'fast'" in str(status.input) or '"fast"' in str(status.input)


async def test_toolsets_the_agent_has_may_be_overridden_with(dbos: DBOS) -> None:
    workflow_id = f'override-toolsets-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        await user_workflow('no toolsets')
    assert seen == []


async def test_a_toolset_the_agent_does_not_have_is_refused(dbos: DBOS) -> None:
    with SetWorkflowID(f'override-late-{uuid.uuid4()}'), pytest.raises(NotInDurableUnitError) as error:
        await user_workflow('late')
    assert 'inside a DBOS workflow' in str(error.value)
    assert 'Agent(..., toolsets=[...])' in str(error.value)
