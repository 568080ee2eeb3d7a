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
    # A model request: messages and request parameters; no settings, model key or run context (no event handler).
    messages, params, settings, model_key, request_ctx = inputs[0][1]
    assert settings is model_key is request_ctx is None
    assert messages[0]['parts'][-1]['content'] == 'What is the weather?'
    assert params['function_tools'][0]['name'] == 'get_weather'
    # A tool call: its arguments and the run context; the tool is named by the activity, the model is the default.
    tool_args, ctx, model_key = inputs[1][1]
    assert model_key is None
    assert tool_args == {'day': 'monday'}
    assert ctx['deps'] == {'city': 'Mexico City', 'units': 'metric'}
    assert ctx['tool_name'] == 'get_weather'
    assert 'messages' not in ctx


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
