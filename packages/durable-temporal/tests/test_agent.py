"""Runs of a TemporalAgent in a workflow on the real dev server: model requests and tool calls as activities."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from _temporal_support import activity_inputs, activity_types, history_events, plugin_client_fixture  # noqa: F401
from _wf_agent import TOOL_CALLS, GeographyWorkflow, IterWorkflow, ModelChoiceWorkflow, StringModelWorkflow
from durable_core.testing import OpenAICompatibleServer, TemporalDevServer
from temporalio.client import Client, WorkflowFailureError
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
    # The first request of a run refers to no earlier messages; the next one to the 1 it sent (linear history).
    earlier = messages['earlier']
    assert (earlier['count'], earlier['digest'], len(earlier['sizes'])) == (0, '', 1)
    assert messages['messages'][0]['parts'][-1]['content'] == 'What is the weather?'
    later = inputs[2][1][0]
    assert later['earlier']['run'] == earlier['run']
    assert later['earlier']['count'] == 1
    assert len(later['earlier']['sizes']) == 2
    assert [message['kind'] for message in later['messages']] == ['response', 'request']
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


async def test_provider_model_string_selected_at_run_time(
    plugin_client: Client, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run(model='openai:...')` builds the provider in the workflow and sends the request from an activity."""
    with OpenAICompatibleServer(['answer from the provider']) as server:
        monkeypatch.setenv('OPENAI_BASE_URL', server.base_url)
        monkeypatch.setenv('OPENAI_API_KEY', 'sk-test-not-a-secret')
        async with Worker(plugin_client, task_queue=task_queue, workflows=[ModelChoiceWorkflow]):
            handle = await plugin_client.start_workflow(
                ModelChoiceWorkflow.run,
                'openai:gpt-4.1-mini',
                id=f'choice-{uuid.uuid4()}',
                task_queue=task_queue,
                # A workflow task that fails is retried forever: the timeout turns a regression into a failure.
                execution_timeout=timedelta(seconds=30),
            )
            try:
                result = await handle.result()
            except WorkflowFailureError as error:
                pytest.fail(f'the workflow failed: {error.cause!r}')
        assert result == 'answer from the provider'
        assert server.calls.succeeded == 1
        assert server.requests[0].json()['model'] == 'gpt-4.1-mini'
    assert await activity_types(handle) == ['plain.model_request']
    # The activity names the model by its string; the provider's key stays in the worker's environment.
    [(_, [_messages, _params, _settings, model_key, _ctx])] = await activity_inputs(handle)
    assert model_key == 'openai:gpt-4.1-mini'
    history = b''.join(event.SerializeToString() for event in await history_events(handle))
    assert b'gpt-4.1-mini' in history
    assert b'sk-test-not-a-secret' not in history


@pytest.mark.parametrize('where', ['run', 'capability agent'])
async def test_a_model_string_whose_sdk_imports_slowly_on_a_cold_worker(
    temporal_dev_server: TemporalDevServer, plugin_client: Client, task_queue: str, tmp_path: Path, where: str
) -> None:
    """On a fresh worker whose first `import openai` takes 3 s, longer than the workflow deadlock timer (2 s), a model
    string imports the SDK outside the workflow: no deadlock, no half-imported SDK, one request. The string is the
    run's `model='openai:...'`, or the capability form's `Agent('openai:...')`, which PydanticAI builds in the run."""
    log = tmp_path / 'worker.log'
    with OpenAICompatibleServer(['answer from the provider']) as server, log.open('w') as worker_log:
        here = Path(__file__).parent
        env = {
            **os.environ,
            'OPENAI_BASE_URL': server.base_url,
            'OPENAI_API_KEY': 'sk-test-not-a-secret',
            'PYTHONPATH': os.pathsep.join([str(here), os.environ.get('PYTHONPATH', '')]),
        }
        worker = subprocess.Popen(
            [sys.executable, str(here / '_slow_import_worker.py'), temporal_dev_server.target, task_queue],
            env=env,
            stderr=worker_log,
        )
        try:
            workflow_id, timeout = f'cold-{uuid.uuid4()}', timedelta(seconds=120)
            if where == 'run':
                result = await plugin_client.execute_workflow(
                    ModelChoiceWorkflow.run,
                    'openai:gpt-4.1-mini',
                    id=workflow_id,
                    task_queue=task_queue,
                    execution_timeout=timeout,
                )
            else:
                result = await plugin_client.execute_workflow(
                    StringModelWorkflow.run, id=workflow_id, task_queue=task_queue, execution_timeout=timeout
                )
        finally:
            worker.kill()
            worker.wait()
        assert result == 'answer from the provider'
        assert server.calls.succeeded == 1
    output = log.read_text()
    assert 'importing openai slowly' in output, output
    assert 'TMPRL1101' not in output, output  # the SDK's "Potential deadlock detected"
    assert 'AttributeError' not in output, output


async def test_iter_in_a_workflow(plugin_client: Client, task_queue: str) -> None:
    TOOL_CALLS.clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[IterWorkflow]):
        handle = await plugin_client.start_workflow(
            IterWorkflow.run, 'What is the weather?', id=f'iter-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == [
            'UserPromptNode',
            'ModelRequestNode',
            'CallToolsNode',
            'ModelRequestNode',
            'CallToolsNode',
            'End',
            'It is sunny in Mexico City.',
        ]
    assert TOOL_CALLS == ['Lima:monday:True']
    assert await activity_types(handle) == [
        'geography.model_request',
        'geography.tool_call.agent.get_weather',
        'geography.model_request',
    ]
