"""MCP on Temporal against a real stdio MCP server: listing, instructions and calls are activities.

Runs once per form (the `form` fixture): `TemporalAgent(agent)` and `TemporalDurability`, each run in a workflow.
"""

from __future__ import annotations

import uuid

from _forms import Form
from _temporal_support import activity_types, plugin_client_fixture  # noqa: F401
from _wf_mcp import MCP_CALLS_FILE, MCPWorkflow, mcp_agents, mcp_model
from temporalio.client import Client
from temporalio.worker import Worker


async def test_mcp_listing_instructions_and_calls_are_activities(
    plugin_client: Client, task_queue: str, form: Form
) -> None:
    MCP_CALLS_FILE.unlink(missing_ok=True)
    mcp_model.requests.clear()
    try:
        async with Worker(plugin_client, task_queue=task_queue, workflows=[MCPWorkflow]):
            handle = await plugin_client.start_workflow(
                MCPWorkflow.run,
                args=['Add 2 and 3, then shout hi', form],
                id=f'mcp-{uuid.uuid4()}',
                task_queue=task_queue,
            )
            assert await handle.result() == ['Five, and HI.', 'Five, and HI.']
        # The server ran each call once per run: the tool results came from it, through an activity.
        assert MCP_CALLS_FILE.read_text().split() == ['add', 'shout', 'add', 'shout']
    finally:
        MCP_CALLS_FILE.unlink(missing_ok=True)
    name = mcp_agents[form].name
    one_run = [
        # Tools and instructions are fetched once per run, though the run makes three model requests.
        f'{name}.mcp_get_tools.calculator',
        f'{name}.mcp_get_instructions.calculator',
        f'{name}.model_request',
        f'{name}.mcp_call_tool.calculator',
        f'{name}.model_request',
        f'{name}.mcp_call_tool.calculator',
        f'{name}.model_request',
    ]
    assert await activity_types(handle) == one_run + one_run
    # The model saw the server's instructions and tools, and the tools' answers.
    first_request = mcp_model.requests[0]
    assert 'Use add for sums.' in (first_request[0].instructions or '')  # pyright: ignore[reportAttributeAccessIssue]
    last_request = mcp_model.requests[2]
    returns = [part.content for message in last_request for part in message.parts if part.part_kind == 'tool-return']
    assert returns == [5, 'HI']
