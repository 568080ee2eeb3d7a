"""Runs of a TemporalAgent in a workflow on the real dev server: model requests and tool calls as activities."""

from __future__ import annotations

import uuid

import pytest
from _temporal_support import activity_inputs, activity_types, plugin_client_fixture  # noqa: F401
from _wf_agent import TOOL_CALLS, GeographyWorkflow, ModelChoiceWorkflow
from temporalio.client import Client
from temporalio.worker import Worker


async def test_run_with_model_and_tool_activities(plugin_client: Client, task_queue: str) -> None:
    TOOL_CALLS.clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[GeographyWorkflow]):
        handle = await plugin_client.start_workflow(
            GeographyWorkflow.run, 'What is the weather?', id=f'geo-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'It is sunny in Mexico City.'
    assert TOOL_CALLS == ['Mexico City:monday:True']
    assert await activity_types(handle) == [
        'geography.model_request',
        'geography.tool_call.agent.get_weather',
        'geography.model_request',
    ]
    inputs = await activity_inputs(handle)
    first_request = inputs[0][1]
    assert set(first_request) == {'messages', 'params'}  # no run context without an event handler
    tool_call = inputs[1][1]
    assert tool_call['args'] == {'day': 'monday'}
    assert tool_call['ctx']['deps'] == {'city': 'Mexico City', 'units': 'metric'}
    assert 'messages' not in tool_call['ctx']
    assert 'tool_name' not in tool_call['ctx']


@pytest.mark.parametrize(
    ('model', 'expected'), [(None, 'default answer'), ('fast', 'fast answer'), ('test', 'success (no tool calls)')]
)
async def test_model_selected_at_run_time(
    plugin_client: Client, task_queue: str, model: str | None, expected: str
) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[ModelChoiceWorkflow]):
        result = await plugin_client.execute_workflow(
            ModelChoiceWorkflow.run, model, id=f'choice-{uuid.uuid4()}', task_queue=task_queue
        )
    assert result == expected
