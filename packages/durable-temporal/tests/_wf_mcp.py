"""The agent and workflow of test_mcp.py: an MCPToolset over a real stdio MCP server (the testing kit's).

The server appends each tool call's name to ``MCP_CALLS_FILE``, so the test counts calls at the source. The agent
exists in both durable forms (`_forms.durable_forms`), each with its own toolset over the server; the workflow runs
the one its first argument names.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from _forms import WRAPPER, Form, durable_forms
from durable_core.testing import ScriptedModel, ToolCall
from durable_core.testing.mcp_calculator import MCP_CALCULATOR_PATH
from durable_temporal import PydanticAIWorkflow
from fastmcp.client import Client
from fastmcp.client.transports import PythonStdioTransport
from pydantic_ai.mcp import MCPToolset
from temporalio import workflow

# The same path in the host and in the sandbox's re-import (same process); the server writes it from activities.
with workflow.unsafe.sandbox_unrestricted():
    MCP_CALLS_FILE = Path(tempfile.gettempdir()) / f'durable-temporal-mcp-calls-{os.getpid()}.txt'

mcp_model = ScriptedModel(
    [ToolCall('add', {'a': 2, 'b': 3}), ToolCall('shout', {'text': 'hi'}), 'Five, and HI.'], position='history'
)


def calculator() -> list[MCPToolset]:
    return [
        MCPToolset(
            Client(
                PythonStdioTransport(MCP_CALCULATOR_PATH, args=[str(MCP_CALLS_FILE)]),
                init_timeout=60,
            ),
            id='calculator',
            include_instructions=True,
        )
    ]


mcp_agents = durable_forms('mcp_agent', mcp_model, toolsets=calculator)


@workflow.defn
class MCPWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = list(mcp_agents.values())

    @workflow.run
    async def run(self, prompt: str, form: Form = WRAPPER) -> list[str]:
        """Two runs of the agent: each lists the server's tools once, however many steps it takes."""
        first = await mcp_agents[form].run(prompt)
        second = await mcp_agents[form].run(prompt)
        return [first.output, second.output]
