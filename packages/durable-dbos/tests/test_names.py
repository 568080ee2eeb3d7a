"""The persisted names of an agent's workflow and steps, pinned: a rename breaks in-flight runs on upgrade."""

from __future__ import annotations

from collections.abc import AsyncIterable

from durable_dbos import DBOSAgent
from pydantic_ai import Agent, AgentStreamEvent, RunContext
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset


async def handler(ctx: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
    async for _ in events:
        pass


weather = FunctionToolset[None](id='weather')


@weather.tool_plain
def forecast(city: str) -> str:
    return city


agent = Agent(
    TestModel(),
    name='pinned',
    toolsets=[weather, MCPToolset('http://127.0.0.1:9/mcp', id='search')],
)


@agent.tool_plain
def local_time(city: str) -> str:
    return city


@agent.toolset(id='per_user')
def per_user(ctx: RunContext[None]) -> FunctionToolset[None]:
    return FunctionToolset()


dbos_agent = DBOSAgent(agent, event_stream_handler=handler)


def test_durable_unit_names_are_pinned() -> None:
    # Plain function tools run in workflow code (DBOS's convention): they are not steps, so they are not listed.
    assert dbos_agent.durable_unit_names() == [
        'pinned.event_handler',
        'pinned.mcp_call_tool.search',
        'pinned.mcp_get_instructions.search',
        'pinned.mcp_get_tools.search',
        'pinned.model_cancel',
        'pinned.model_request',
        'pinned.run',
        'pinned.toolset_call_tool.per_user',
    ]


# Created at import time, like every DBOSAgent: before DBOS.launch().
with_steps = DBOSAgent(
    Agent(TestModel(), name='pinned_steps', toolsets=[weather]),
    tool_step_config={'retries': 1},
    tool_step_config_by_name={'forecast': None},
)
both = DBOSAgent(Agent(TestModel(), name='pinned_both', toolsets=[weather]), tool_step_config={'retries': 1})


def test_function_tools_configured_as_steps_are_listed() -> None:
    assert with_steps.durable_unit_names() == [
        'pinned_steps.model_cancel',
        'pinned_steps.model_request',
        'pinned_steps.run',
    ]
    assert both.durable_unit_names() == [
        'pinned_both.model_cancel',
        'pinned_both.model_request',
        'pinned_both.run',
        'pinned_both.tool_call.weather.forecast',
    ]
