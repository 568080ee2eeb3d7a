"""The private PydanticAI reads in `durable_core._compat` still see what they read: fails if PydanticAI changes."""

from __future__ import annotations

from durable_core.engine import agent_instruction_functions
from pydantic_ai import Agent, RunContext


def test_an_agents_instruction_functions_are_found_in_order() -> None:
    def given(ctx: RunContext[None]) -> str:
        return 'given'

    agent = Agent('test', instructions=['plain text', given])

    @agent.instructions
    async def decorated(ctx: RunContext[None]) -> str:
        return 'decorated'

    assert agent_instruction_functions(agent) == [given, decorated]


def test_an_agent_without_instruction_functions_has_none() -> None:
    assert agent_instruction_functions(Agent('test', instructions='only text')) == []
