"""A dynamic toolset without an `id` (`@agent.toolset`, a capability's toolset function) takes one derived from its
function's qualified name: the same in every process, so it can name units; two that collide are refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest
from durable_core import DurableNameError
from durable_core._ids import derived_name
from durable_core.engine import DurableAgent, RunInputs, UnitCall, UnitConfigs
from pydantic_ai import Agent, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.capabilities import DynamicCapability, Toolset
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import DynamicToolset, FunctionToolset

_IN_RUN: ContextVar[bool] = ContextVar('in_run', default=False)


class UnitEngine(DurableAgent[Any, Any]):
    """An in-process engine that records the units it runs."""

    engine_name = 'Units'
    wrapper_name = 'UnitAgent'

    def __init__(self, wrapped: Agent[Any, Any], **kwargs: Any) -> None:
        super().__init__(wrapped, **kwargs)
        self.units: list[str] = []

    def _in_durable_context(self) -> bool:
        return _IN_RUN.get()

    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        self.units.append(str(call.unit))
        return await execute()

    def _durable_run_id(self) -> str:
        return 'run-1'

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any] | str:
        token = _IN_RUN.set(True)
        try:
            return await self.run_inputs(inputs)
        finally:
            _IN_RUN.reset(token)


def _rolls(ctx: RunContext[None]) -> FunctionToolset[None]:
    toolset = FunctionToolset[None]()

    @toolset.tool_plain
    def roll() -> int:  # pyright: ignore[reportUnusedFunction]
        return 4

    return toolset


def make_agent(name: str) -> Agent[None, str]:
    agent = Agent(TestModel(), name=name)

    @agent.toolset
    def user_tools(ctx: RunContext[None]) -> FunctionToolset[None]:
        return _rolls(ctx)

    return agent


def test_the_derivation_rule() -> None:
    assert derived_name('user_tools') == 'user_tools'
    assert derived_name('make_agent.<locals>.user_tools') == 'make_agent-user_tools'
    assert derived_name('Tools.for_user') == 'Tools-for_user'
    assert derived_name('f.<locals>.<lambda>') == 'f-_lambda_'
    long = derived_name('a' * 150 + '.tools')
    assert len(long) == 100
    assert long.endswith('-tools')
    assert derived_name('a' * 5 + '.' + '1' * 100) == '_' + '1' * 99  # a name starts with a letter or `_`


def test_a_decorated_dynamic_toolset_without_id_names_its_units_after_its_function() -> None:
    durable = UnitEngine(make_agent('derived_units'))
    assert 'derived_units.toolset_call_tool.make_agent-user_tools' in durable.durable_unit_names()
    assert [leaf.derived_from for leaf in durable._toolsets] == [None, 'make_agent.<locals>.user_tools']  # pyright: ignore[reportPrivateUsage]


async def test_its_tool_calls_run_as_units_of_the_derived_id() -> None:
    durable = UnitEngine(make_agent('derived_run'))
    result = await durable.run('Roll.')
    assert result.output == '{"roll":4}'
    assert 'derived_run.toolset_call_tool.make_agent-user_tools' in durable.units


def test_the_id_is_the_same_in_another_process() -> None:
    """Nothing of one process (object ids, hash seeds) goes into it: a worker and its workflow agree."""
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        from test_derived_toolset_ids import UnitEngine, make_agent
        print(UnitEngine(make_agent('derived_elsewhere')).durable_unit_names())
        """
    )
    here = UnitEngine(make_agent('derived_elsewhere_here')).durable_unit_names()
    done = subprocess.run(
        [sys.executable, '-c', script, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
        env={'PYTHONHASHSEED': '123', 'PATH': ''},
    )
    there = [name.replace('derived_elsewhere', 'derived_elsewhere_here') for name in eval(done.stdout)]
    assert there == here


def listed(ctx: RunContext[None]) -> FunctionToolset[None]:
    return _rolls(ctx)


def from_capability(ctx: RunContext[None]) -> FunctionToolset[None]:
    return _rolls(ctx)


def capability(ctx: RunContext[None]) -> Toolset[None]:
    return Toolset(_rolls)


def test_a_toolset_function_passed_to_the_agent_and_a_capability_toolset_function_are_derived_too() -> None:
    agent = Agent(
        TestModel(),
        name='derived_kinds',
        toolsets=[listed],
        capabilities=[Toolset(from_capability), DynamicCapability(capability)],
    )
    names = UnitEngine(agent).durable_unit_names()
    for derived in ('listed', 'from_capability', 'capability'):
        assert f'derived_kinds.toolset_call_tool.{derived}' in names


def test_a_capability_toolset_with_an_id_keeps_it() -> None:
    agent = Agent(TestModel(), name='capability_id', capabilities=[Toolset(FunctionToolset[None](id='mine'))])
    assert 'mine' in [leaf.toolset_id for leaf in UnitEngine(agent)._toolsets]  # pyright: ignore[reportPrivateUsage]


def test_an_explicit_id_wins() -> None:
    agent = Agent(TestModel(), name='explicit_dynamic', toolsets=[DynamicToolset(_rolls, id='chosen')])
    assert 'explicit_dynamic.toolset_call_tool.chosen' in UnitEngine(agent).durable_unit_names()


def twin() -> Callable[[RunContext[None]], FunctionToolset[None]]:
    def tools(ctx: RunContext[None]) -> FunctionToolset[None]:
        return _rolls(ctx)

    return tools


def test_two_derived_ids_that_collide_are_refused_naming_the_fix() -> None:
    agent = Agent(TestModel(), name='derived_twins', toolsets=[twin(), twin()])
    with pytest.raises(DurableNameError, match=r"both have the toolset id 'twin-tools'.*give one an id"):
        UnitEngine(agent)


def test_a_derived_id_that_collides_with_an_explicit_one_is_refused() -> None:
    def chosen(ctx: RunContext[None]) -> FunctionToolset[None]:
        return _rolls(ctx)

    chosen.__qualname__ = 'chosen'
    agent = Agent(TestModel(), name='derived_vs_explicit', toolsets=[FunctionToolset[None](id='chosen'), chosen])
    with pytest.raises(DurableNameError, match=r"FunctionToolset with id='chosen'.*give one an id"):
        UnitEngine(agent)


def test_a_plain_function_toolset_without_id_is_refused_where_its_tools_would_be_units() -> None:
    agent = Agent(TestModel(), name='plain_no_id', toolsets=[FunctionToolset[None]()])
    engine = UnitEngine(agent)  # no tool config: its tools run in workflow code, and need no name
    with pytest.raises(DurableNameError, match=r"FunctionToolset\(\.\.\., id='my_toolset'\)"):
        engine.unit_configs = UnitConfigs(tool={'as': 'a unit'})  # the engine's default makes every tool a unit


async def test_a_function_toolset_without_id_whose_tools_run_inline_is_not_journaled() -> None:
    toolset = FunctionToolset[None]()
    shouted: list[str] = []

    @toolset.tool_plain
    def shout(text: str) -> str:  # pyright: ignore[reportUnusedFunction]
        shouted.append(text)
        return text.upper()

    engine = UnitEngine(Agent(TestModel(), name='inline_no_id', toolsets=[toolset]))
    await engine.run('go')
    assert len(shouted) == 1  # run in workflow code, not as a unit
    assert engine.units == ['inline_no_id.model_request', 'inline_no_id.model_request']
    assert engine.durable_unit_names() == [
        'inline_no_id.model_cancel',
        'inline_no_id.model_request',
        'inline_no_id.run',
    ]
