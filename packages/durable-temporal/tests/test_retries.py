"""The default activity retry policy against a real OpenAI chat model: rejected requests fail at once, 5xx retry.

The model is PydanticAI's `OpenAIChatModel` talking to durable-core's local OpenAI-compatible server, with the
SDK's own retries off (`without_sdk_retries`), so every request the server counts was made by one activity attempt.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Iterator
from types import ModuleType

import pydantic_ai.exceptions
import pytest
from _temporal_support import activity_types, plugin_client_fixture  # noqa: F401
from durable_core.testing import FaultKind, FaultPlan, OpenAICompatibleServer, RecordedRequest
from pydantic_ai import ModelAPIError
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

# The fault of each coming request, in order; requests beyond the list are answered.
NEXT_FAULTS: list[FaultKind] = []


def _next_fault(request: RecordedRequest) -> FaultKind | None:
    return NEXT_FAULTS.pop(0) if NEXT_FAULTS else None


@pytest.fixture(scope='module')
def llm() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer(faults=FaultPlan(rule=_next_fault, retry_after_ms=None)) as server:
        yield server


@pytest.fixture(scope='module')
def wf(llm: OpenAICompatibleServer) -> Iterator[ModuleType]:
    previous = os.environ.get('DURABLE_TEMPORAL_TEST_LLM_URL')
    os.environ['DURABLE_TEMPORAL_TEST_LLM_URL'] = llm.base_url
    try:
        yield importlib.import_module('_wf_retries')
    finally:
        if previous is None:
            del os.environ['DURABLE_TEMPORAL_TEST_LLM_URL']
        else:
            os.environ['DURABLE_TEMPORAL_TEST_LLM_URL'] = previous


async def test_a_rejected_request_fails_the_workflow_at_once(
    plugin_client: Client, task_queue: str, llm: OpenAICompatibleServer, wf: ModuleType
) -> None:
    NEXT_FAULTS[:] = [FaultKind.BAD_REQUEST]  # a retry would get an answer, and the workflow would complete
    before = llm.calls.total
    async with Worker(plugin_client, task_queue=task_queue, workflows=[wf.RetriesWorkflow]):
        handle = await plugin_client.start_workflow(
            wf.RetriesWorkflow.run, 'hello', id=f'retries-400-{uuid.uuid4()}', task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
    assert llm.calls.total - before == 1
    activity_error = failure.value.cause
    assert isinstance(activity_error, ActivityError)
    assert activity_error.retry_state is not None
    assert activity_error.retry_state.name == 'NON_RETRYABLE_FAILURE'
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    # PydanticAI 2.68 maps a rejected request (400) to ModelRequestRejectedError, a ModelAPIError beside ModelHTTPError.
    assert cause.type == 'ModelRequestRejectedError'
    assert issubclass(getattr(pydantic_ai.exceptions, cause.type), ModelAPIError)
    assert cause.non_retryable
    assert 'status_code: 400' in cause.message
    assert 'test-key' not in cause.message
    assert await activity_types(handle) == ['retries.model_request']


async def test_a_server_error_is_retried_by_the_activity(
    plugin_client: Client, task_queue: str, llm: OpenAICompatibleServer, wf: ModuleType
) -> None:
    NEXT_FAULTS[:] = [FaultKind.SERVER_ERROR]
    before = llm.calls
    async with Worker(plugin_client, task_queue=task_queue, workflows=[wf.RetriesWorkflow]):
        output = await plugin_client.execute_workflow(
            wf.RetriesWorkflow.run, 'hello', id=f'retries-500-{uuid.uuid4()}', task_queue=task_queue
        )
    assert output == 'ok'
    after = llm.calls
    assert after.total - before.total == 2
    assert after.fault_count(FaultKind.SERVER_ERROR) - before.fault_count(FaultKind.SERVER_ERROR) == 1
