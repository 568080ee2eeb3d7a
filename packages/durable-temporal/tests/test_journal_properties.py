"""Every run argument that crosses Temporal's journal comes back from it as the caller passed it (issue 12, bugs 2, 5).

On Temporal the run's arguments stay in workflow memory; what the journal holds are the activities' inputs. For
generated runs (message histories with images and dates in tool results, model settings, usage limits with `None`
fields, deps with dates) this reads the first model-request activity's input back from the server's history,
decodes it with durable-core's codec, and compares it with what was passed and with what the model was given in
the activity.

The values come from durable-core's shared strategies (`durable_core.testing.strategies`): every kind of user
content and binary content, dates, datetimes with offsets and Python values in tool results, `None` fields, JSON in
`Any` fields.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import pytest
import pytest_asyncio
from _journal_cases import CASES, SAW, JournalCase, JournalDeps
from _wf_journal import JournalWorkflow, journal_agent
from durable_core import deserialize_run_context
from durable_core.testing import strategies as ds
from durable_temporal import PydanticAIPlugin
from durable_temporal._activity_args import ModelRequestArgs
from durable_temporal._history import split_messages_argument
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic_ai.messages import BinaryContent, ModelRequest, ToolReturnPart, UserPromptPart
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

# ---- strategies -------------------------------------------------------------------------------------------------
# durable-core's shared strategies; only the deps are Temporal's own (the workflow reads them from _journal_cases).

deps = st.builds(
    JournalDeps,
    name=ds.texts(),
    day=st.dates(),
    at=ds.timestamps(naive=False),
    scores=st.lists(st.floats(allow_nan=False), max_size=3),
    tags=st.dictionaries(ds.texts(), st.integers(), max_size=2),
    note=st.none() | ds.texts(),
)
cases = st.builds(
    JournalCase,
    prompt=ds.user_contents(),
    history=ds.run_histories(),
    deps=deps,
    settings=st.none() | ds.model_settings(),
    usage_limits=ds.usage_limits(),
)

# ---- the test ---------------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def journal_client(time_skipping_env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[Client]:
    config = time_skipping_env.client.config()
    config['plugins'] = [PydanticAIPlugin()]
    client = Client(**config)
    # An error in the workflow fails it (instead of retrying its task forever), so a failing example fails the test.
    async with Worker(
        client, task_queue=task_queue, workflows=[JournalWorkflow], workflow_failure_exception_types=[Exception]
    ):
        yield client


async def _first_model_request(client: Client, workflow_id: str) -> ModelRequestArgs:
    """The first model-request activity's input, as the server's history holds it, decoded by durable-core."""
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField('activity_task_scheduled_event_attributes'):
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name.endswith('.model_request'):
                return ModelRequestArgs.decode(tuple(payload.data.decode() for payload in scheduled.input.payloads))
    raise AssertionError(f'the workflow {workflow_id} scheduled no model request')


@pytest.mark.filterwarnings('ignore:A `cost_limit` is set but cannot be enforced')
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases)
async def test_run_arguments_come_back_from_the_journal(
    journal_client: Client, task_queue: str, case: JournalCase
) -> None:
    passed = copy.deepcopy(case)  # what the caller passed, untouched by the run
    workflow_id = f'journal-{uuid.uuid4()}'
    CASES[workflow_id] = case
    try:
        assert await journal_client.execute_workflow(JournalWorkflow.run, id=workflow_id, task_queue=task_queue) == (
            'done'
        )
        journaled = await _first_model_request(journal_client, workflow_id)
        saw = SAW[workflow_id]
    finally:
        CASES.pop(workflow_id)
        SAW.pop(workflow_id, None)

    # The messages: the history as passed, then the run's request with the prompt; the model got the same. The
    # run's first request refers to no earlier ones, so it carries them all.
    earlier, messages = split_messages_argument(journaled.messages)
    assert earlier is not None
    assert earlier.count == 0
    history_length = len(passed.history)
    assert messages[:history_length] == passed.history
    assert len(messages) == history_length + 1
    new_request = messages[-1]
    assert isinstance(new_request, ModelRequest)
    assert [part.content for part in new_request.parts if isinstance(part, UserPromptPart)] == [passed.prompt]
    assert messages == saw.messages

    # The settings, as passed (no settings: none at all) and as the model got them.
    assert journaled.settings == (passed.settings or None)
    assert saw.settings == journaled.settings

    # The run context: the deps through the agent's deps_type, the usage limits, the prompt, the settings.
    assert journaled.ctx is not None
    ctx = deserialize_run_context(journaled.ctx, deps_type=JournalDeps, model=journal_agent.model)  # pyright: ignore[reportArgumentType]
    assert ctx.deps == passed.deps
    assert ctx.usage_limits == passed.usage_limits
    assert ctx.prompt == passed.prompt
    assert ctx.model_settings == journaled.settings
    assert saw.deps == passed.deps
    assert saw.usage_limits == passed.usage_limits


NEEDED = frozenset({'date in a tool return', 'image in a prompt', 'no settings', 'request_limit None'})


class _AllFound(Exception):
    """Every needed value was seen: nothing is left to look for."""


def test_strategies_make_what_the_property_needs() -> None:
    """The strategies reach the values the property is about: without them it would pass without testing them."""
    found: set[str] = set()

    # Generation only (no shrinking, no example database): the search ends at the first case that completes the set.
    @settings(max_examples=300, deadline=None, database=None, phases=[Phase.generate])
    @given(case=cases)
    def visit(case: JournalCase) -> None:
        for message in case.history:
            for part in message.parts:
                if isinstance(part, ToolReturnPart) and _holds(part.content, lambda item: type(item) is date):
                    found.add('date in a tool return')
                if isinstance(part, UserPromptPart) and _holds(
                    part.content, lambda item: isinstance(item, BinaryContent)
                ):
                    found.add('image in a prompt')
        if case.settings is None:
            found.add('no settings')
        if case.usage_limits.request_limit is None:
            found.add('request_limit None')
        if found == NEEDED:
            raise _AllFound

    with contextlib.suppress(_AllFound):
        visit()
    assert found == NEEDED


def _holds(value: Any, matches: Callable[[Any], bool]) -> bool:
    """Whether `value`, or anything in it, matches."""
    if matches(value):
        return True
    if isinstance(value, list | tuple):
        return any(_holds(item, matches) for item in value)  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return any(_holds(item, matches) for item in value.values())  # pyright: ignore[reportUnknownVariableType]
    return False
