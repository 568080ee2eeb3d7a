"""Secrets in model settings never reach the workflow history, in both durable forms.

The agent's own `model_settings` (and the model's) are known to the worker that registered the agent, so headers set
there stay out of the activities' inputs and are merged back in the worker. Headers only the run has are refused.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from _forms import FORMS, Form, temporal_agent
from _temporal_support import activity_inputs, plugin_client_fixture  # noqa: F401
from _wf_secrets import RUN_SECRET, SECRET, SEEN_SETTINGS, TOOL_SAW_HEADERS, SecretsWorkflow, plain_agents
from durable_core import encode_messages
from durable_temporal import _activity_args as args_io
from durable_temporal._converter import RawJson
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models import ModelRequestParameters
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker


async def _history_text(handle: WorkflowHandle[Any, Any]) -> str:
    """The workflow's history as JSON, with every payload's data decoded from base64 to its own text."""
    history = json.loads((await handle.fetch_history()).to_json())

    def decoded(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: base64.b64decode(item).decode(errors='replace')
                if key == 'data' and isinstance(item, str)
                else decoded(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [decoded(item) for item in value]
        return value

    return json.dumps(decoded(history))


async def _run_secrets_workflow(
    client: Client, task_queue: str, case: str, form: Form
) -> tuple[WorkflowHandle[Any, Any], object]:
    """Run `SecretsWorkflow` for one case and form on a worker of its own: its handle, and its result or failure."""
    async with Worker(client, task_queue=task_queue, workflows=[SecretsWorkflow]):
        handle = await client.start_workflow(
            SecretsWorkflow.run,
            args=[case, form],
            id=f'secrets-{case}-{form}-{uuid.uuid4()}',
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=60),
        )
        try:
            return handle, await handle.result()
        except WorkflowFailureError as failure:
            return handle, failure.cause


@pytest.mark.parametrize('case', ['plain', 'handler', 'headers_only'])
@pytest.mark.parametrize('form', FORMS)
async def test_agent_headers_reach_the_model_but_not_the_history(
    plugin_client: Client, task_queue: str, form: Form, case: str
) -> None:
    SEEN_SETTINGS.clear()
    TOOL_SAW_HEADERS.clear()
    handle, outcome = await _run_secrets_workflow(plugin_client, task_queue, case, form)
    assert outcome == 'The tool said yes.'
    # The model got the agent's headers (and its other settings), in each request.
    assert len(SEEN_SETTINGS) == 2
    for settings in SEEN_SETTINGS:
        assert settings is not None
        assert settings['extra_headers'] == {'Authorization': SECRET}
        assert settings.get('temperature') == (None if case == 'headers_only' else 0.5)
    # A tool reads the request's settings from its run context, headers included, as PydanticAI gives them.
    assert TOOL_SAW_HEADERS == [{'Authorization': SECRET}]
    inputs = await activity_inputs(handle)
    leaking = [name for name, args in inputs if 'sk-test' in json.dumps(args)]
    assert not leaking, f'the inputs of {leaking} hold the secret'
    history = await _history_text(handle)
    assert 'sk-test' not in history
    assert 'The tool said yes.' in history  # the scan reads the payloads
    # The settings that hold no secret are journaled as before.
    model_requests = [args for name, args in inputs if name.endswith('.model_request')]
    assert [args[2] for args in model_requests] == [None if case == 'headers_only' else {'temperature': 0.5}] * 2


@pytest.mark.parametrize('case', ['plain_run_headers', 'handler_run_headers'])
@pytest.mark.parametrize('form', FORMS)
async def test_headers_passed_to_run_are_refused(plugin_client: Client, task_queue: str, form: Form, case: str) -> None:
    SEEN_SETTINGS.clear()
    handle, cause = await _run_secrets_workflow(plugin_client, task_queue, case, form)
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.details, cause.non_retryable) == ('UserError', ('DurableUsageError',), True)
    assert 'model_settings passed to run() are journaled with the run, and headers often hold secrets' in cause.message
    assert 'default_headers' in cause.message
    assert SEEN_SETTINGS == []  # refused before the first model request
    assert RUN_SECRET.split()[1] not in await _history_text(handle)


async def test_a_request_journaled_with_its_headers_runs_with_them() -> None:
    """An activity scheduled before headers were left out holds them in its input: the worker sends those."""
    SEEN_SETTINGS.clear()
    journaled: Any = {'extra_headers': {'Authorization': 'Bearer sk-journaled'}, 'temperature': 0.5}
    # The messages as the previous release journaled them: the whole list.
    messages = RawJson(encode_messages([ModelRequest.user_text_prompt('hi')]).decode())
    activity_args = args_io.ModelRequestArgs.encode(messages, ModelRequestParameters(), journaled, None, None)
    activity = temporal_agent(plain_agents['wrapper']).activities_by_name['secrets.model_request']
    await activity(*activity_args)
    assert list(SEEN_SETTINGS) == [journaled]
