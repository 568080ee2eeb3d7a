"""`override()` in workflow or flow code: deps, a model `run(model=...)` takes, and toolsets and tools the agent has
are durable; anything else is refused, naming the fix. A run started under an override journals what it set."""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pytest
from durable_core import NotInDurableUnitError
from durable_core.engine import RunInputs, UnitConfigs
from pydantic_ai import Agent, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset
from test_derived_toolset_ids import UnitEngine

_IN_WORKFLOW: ContextVar[bool] = ContextVar('in_workflow', default=False)


@dataclass
class User:
    name: str


class InlineEngine(UnitEngine):
    """Runs in workflow code inline (as Temporal and Prefect do); journals the inputs of the runs it starts."""

    engine_name = 'Inline'
    wrapper_name = 'InlineAgent'

    def __init__(self, wrapped: Agent[Any, Any], **kwargs: Any) -> None:
        super().__init__(wrapped, **kwargs)
        self.unit_configs = UnitConfigs(tool={})
        self.journaled: list[RunInputs] = []

    def _in_durable_context(self) -> bool:
        return _IN_WORKFLOW.get()

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any] | str:
        self.journaled.append(self.decode_inputs(self.encode_inputs(inputs)))
        token = _IN_WORKFLOW.set(True)
        try:
            return await self.run_inputs(self.journaled[-1])
        finally:
            _IN_WORKFLOW.reset(token)


class ChildEngine(InlineEngine):
    """A run in workflow code starts a child run with its own journaled inputs (as DBOS does)."""

    engine_name = 'Child'
    _runs_in_durable_code_are_children = True


@pytest.fixture
def in_workflow() -> Iterator[None]:
    token = _IN_WORKFLOW.set(True)
    yield
    _IN_WORKFLOW.reset(token)


extra = FunctionToolset[User](id='extra')


@extra.tool
def whoami(ctx: RunContext[User]) -> str:
    return f'you are {ctx.deps.name}'


def shout(text: str) -> str:
    return text.upper()


def _agent(name: str) -> Agent[User, str]:
    agent = Agent(TestModel(), name=name, deps_type=User, toolsets=[extra], tools=[shout])
    return agent


def _tool_returns(result: AgentRunResult[Any]) -> dict[str, Any]:
    return {
        part.tool_name: part.content
        for message in result.all_messages()
        for part in message.parts
        if part.part_kind == 'tool-return'
    }


@pytest.mark.parametrize('engine', [InlineEngine, ChildEngine])
@pytest.mark.usefixtures('in_workflow')
async def test_deps_override_is_what_the_run_sees_and_journals(engine: type[InlineEngine]) -> None:
    durable = engine(_agent(f'override_deps_{engine.engine_name}'))
    with durable.override(deps=User('Grace')):
        result = await durable.run('Who?', deps=User('Ada'))
    assert _tool_returns(result)['whoami'] == 'you are Grace'
    if engine is ChildEngine:
        assert durable.journaled[-1].deps == {'name': 'Grace'}


@pytest.mark.parametrize('engine', [InlineEngine, ChildEngine])
@pytest.mark.parametrize('how', ['key', 'instance'])
@pytest.mark.usefixtures('in_workflow')
async def test_a_registered_model_override_runs_in_the_model_unit(engine: type[InlineEngine], how: str) -> None:
    fast = TestModel(custom_output_text='fast answer', call_tools=[])
    durable = engine(_agent(f'override_model_{engine.engine_name}_{how}'), models={'fast': fast})
    with durable.override(model='fast' if how == 'key' else fast):
        result = await durable.run('Hi', deps=User('Ada'))
    assert result.output == 'fast answer'
    assert durable.units == [f'{durable.name}.model_request']
    if engine is ChildEngine:
        assert durable.journaled[-1].model == 'fast'


@pytest.mark.usefixtures('in_workflow')
async def test_the_agents_own_model_may_be_overridden_with() -> None:
    agent = _agent('override_own_model')
    durable = InlineEngine(agent)
    assert agent.model is not None
    with durable.override(model=agent.model):
        result = await durable.run('Hi', deps=User('Ada'))
    assert f'{durable.name}.model_request' in durable.units
    assert result.output


@pytest.mark.usefixtures('in_workflow')
def test_an_unregistered_model_override_is_refused_naming_the_fix() -> None:
    durable = InlineEngine(_agent('override_unregistered'))
    with pytest.raises(NotInDurableUnitError, match=r'inside a Inline workflow.*models=\{"my_model": model\}'):
        durable.override(model=TestModel())


@pytest.mark.usefixtures('in_workflow')
async def test_toolsets_the_agent_has_may_be_overridden_with() -> None:
    durable = InlineEngine(_agent('override_toolsets'))
    with durable.override(toolsets=[]):
        result = await durable.run('Hi', deps=User('Ada'))
    assert 'whoami' not in _tool_returns(result)
    with durable.override(toolsets=[extra]):
        result = await durable.run('Hi', deps=User('Ada'))
    assert _tool_returns(result)['whoami'] == 'you are Ada'
    assert 'override_toolsets.tool_call.extra.whoami' in durable.units


@pytest.mark.usefixtures('in_workflow')
def test_a_toolset_the_agent_does_not_have_is_refused_naming_the_fix() -> None:
    durable = InlineEngine(_agent('override_new_toolset'))
    with pytest.raises(
        NotInDurableUnitError,
        match=r"toolset.*does not have.*Agent\(\.\.\., toolsets=\[\.\.\.\]\).*\['agent', 'extra'\]",
    ):
        durable.override(toolsets=[FunctionToolset[User](id='late')])


@pytest.mark.usefixtures('in_workflow')
async def test_tools_the_agent_has_may_be_overridden_with() -> None:
    durable = InlineEngine(_agent('override_tools'))
    with durable.override(tools=[shout]):
        result = await durable.run('Hi', deps=User('Ada'))
    assert 'shout' in _tool_returns(result)
    assert 'override_tools.tool_call.agent.shout' in durable.units


@pytest.mark.usefixtures('in_workflow')
def test_a_tool_the_agent_does_not_have_is_refused_naming_the_fix() -> None:
    def whisper(text: str) -> str:
        return text.lower()

    durable = InlineEngine(_agent('override_new_tool'))
    with pytest.raises(NotInDurableUnitError, match=r"tool 'whisper'.*@agent.tool.*\['shout'\]"):
        durable.override(tools=[whisper])


def test_outside_a_durable_run_anything_may_be_overridden() -> None:
    durable = InlineEngine(_agent('override_outside'))
    with durable.override(model=TestModel(), toolsets=[FunctionToolset[User](id='late')]):
        pass
