"""MCP and dynamic toolsets on Prefect: listing, instructions and calls become tasks of the agent's flow."""

from __future__ import annotations

from pathlib import Path

from durable_core.testing import ScriptedModel, ToolCall
from durable_core.testing.mcp_calculator import MCP_CALCULATOR_PATH
from durable_prefect import PrefectAgent
from fastmcp.client import Client
from fastmcp.client.transports import PythonStdioTransport
from prefect import flow
from prefect.context import get_run_context
from pydantic_ai import Agent, RunContext
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.toolsets import FunctionToolset
from support import read_subflow_runs, read_task_runs


async def _task_names_of_one_run(
    prefect_agent: PrefectAgent[object, str], prompt: str, count: int, **kwargs: object
) -> list[str]:
    @flow
    async def outer() -> str:
        await prefect_agent.run(prompt, **kwargs)  # type: ignore[arg-type]
        return str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    [subflow] = await read_subflow_runs(await outer())
    return sorted(task.name.rsplit('-', 1)[0] for task in await read_task_runs(subflow.id, count=count))


async def test_mcp_listing_instructions_and_calls_are_tasks(tmp_path: Path) -> None:
    calls_file = tmp_path / 'mcp_calls.txt'
    toolset = MCPToolset(
        Client(PythonStdioTransport(MCP_CALCULATOR_PATH, args=[str(calls_file)]), init_timeout=60),
        id='calculator',
        include_instructions=True,
    )
    model = ScriptedModel([[ToolCall('add', {'a': 2, 'b': 3})], [ToolCall('shout', {'text': 'hi'})], 'Five.'])
    prefect_agent = PrefectAgent(Agent(model, name='prefect_mcp', toolsets=[toolset]))
    names = await _task_names_of_one_run(prefect_agent, 'Add 2 and 3', count=7)
    assert calls_file.read_text().split() == ['add', 'shout']
    assert names.count('prefect_mcp.mcp_call_tool.calculator') == 2
    assert names.count('prefect_mcp.mcp_get_tools.calculator') == 1
    assert names.count('prefect_mcp.mcp_get_instructions.calculator') == 1
    assert names.count('prefect_mcp.model_request') == 3
    assert 'Use add for sums.' in (model.requests[0][0].instructions or '')


async def test_dynamic_toolset_calls_are_tasks() -> None:
    calls: list[str] = []
    agent = Agent(ScriptedModel([[ToolCall('whoami')], 'Hello Ada.']), name='prefect_dynamic', deps_type=str)

    @agent.toolset(id='per_user')
    def per_user(ctx: RunContext[str]) -> FunctionToolset[str]:
        toolset = FunctionToolset[str]()

        @toolset.tool
        def whoami(inner: RunContext[str]) -> str:
            calls.append(inner.deps)
            return f'you are {inner.deps}'

        return toolset

    prefect_agent = PrefectAgent(agent)
    names = await _task_names_of_one_run(prefect_agent, 'Who am I?', count=3, deps='Ada')
    assert calls == ['Ada']
    assert names == [
        'prefect_dynamic.model_request',
        'prefect_dynamic.model_request',
        'prefect_dynamic.toolset_call_tool.per_user',
    ]
