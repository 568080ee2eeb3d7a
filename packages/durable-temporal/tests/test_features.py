"""Events, human in the loop, dynamic toolsets, inline and local-activity tools, on the real dev server.

Each test runs once per form (the `form` fixture): `TemporalAgent(agent)` and `Agent(..., capabilities=
[TemporalDurability(...)])`, each run in a workflow. Both schedule the same activities, named after their agent.
"""

from __future__ import annotations

import uuid

from _forms import Form, temporal_agent
from _temporal_support import activity_types, history_events, plugin_client_fixture  # noqa: F401
from _wf_features import (
    EVENTS,
    FLAKY_ATTEMPTS,
    TOOL_CALLS,
    ApprovalWorkflow,
    DynamicWorkflow,
    EventsWorkflow,
    InlineToolWorkflow,
    LocalToolWorkflow,
    dynamic_agents,
    events_agents,
    hitl_agents,
    inline_agents,
    local_agents,
)
from pydantic_ai import DeferredToolResults
from temporalio.client import Client
from temporalio.worker import Worker


async def test_events_reach_the_handler_live_and_in_order(plugin_client: Client, task_queue: str, form: Form) -> None:
    EVENTS.clear()
    TOOL_CALLS.clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[EventsWorkflow]):
        handle = await plugin_client.start_workflow(
            EventsWorkflow.run, args=['Shout hi', form], id=f'events-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'Done shouting.'
    assert TOOL_CALLS == ['shout:hi']
    kinds = [event.removeprefix('ada:') for event in EVENTS]
    assert all(event.startswith('ada:') for event in EVENTS)  # deps rebuilt in every activity
    tool_events = [kind for kind in kinds if kind.startswith('function_tool')]
    assert tool_events == ['function_tool_call', 'function_tool_result']
    call_at = kinds.index('function_tool_call')
    assert 'part_start' in kinds[:call_at]  # the first response streamed, inside its model activity
    assert 'part_delta' in kinds[kinds.index('function_tool_result') :]  # so did the second
    name = events_agents[form].name
    assert await activity_types(handle) == [
        f'{name}.model_request',
        f'{name}.event_handler',
        f'{name}.tool_call.agent.shout',
        f'{name}.event_handler',
        f'{name}.model_request',
    ]


async def test_approval_through_a_signal_resumes_the_agent(plugin_client: Client, task_queue: str, form: Form) -> None:
    TOOL_CALLS.clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[ApprovalWorkflow]):
        handle = await plugin_client.start_workflow(
            ApprovalWorkflow.run, args=['Delete notes.txt', form], id=f'hitl-{uuid.uuid4()}', task_queue=task_queue
        )
        pending = await handle.execute_update(ApprovalWorkflow.pending_approvals)
        assert pending == ['del-1']
        assert TOOL_CALLS == []  # not run before approval
        await handle.signal(ApprovalWorkflow.approve, DeferredToolResults(approvals={'del-1': True}))
        assert await handle.result() == 'Deleted notes.txt.'
    assert TOOL_CALLS == ['delete:notes.txt']
    name = hitl_agents[form].name
    assert await activity_types(handle) == [
        f'{name}.model_request',
        f'{name}.tool_call.agent.delete_file',
        f'{name}.model_request',
    ]


async def test_dynamic_toolset_is_resolved_in_activities(plugin_client: Client, task_queue: str, form: Form) -> None:
    TOOL_CALLS.clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[DynamicWorkflow]):
        handle = await plugin_client.start_workflow(
            DynamicWorkflow.run, args=['Look up x', form], id=f'dynamic-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'Found it.'
    assert 'lookup:x' in TOOL_CALLS
    assert all(call == 'resolve:bob' for call in TOOL_CALLS if call.startswith('resolve'))  # deps reached them
    types = await activity_types(handle)
    name = dynamic_agents[form].name
    listing = [f'{name}.toolset_get_tools.per_user', f'{name}.toolset_get_instructions.per_user']
    assert types == [  # re-listed each step: the toolset is evaluated per run step
        *listing,
        f'{name}.model_request',
        f'{name}.toolset_call_tool.per_user',
        *listing,
        f'{name}.model_request',
    ]
    # One unit list names, registers and configures the activities: what ran is what it lists.
    # (The model-cancel activity serves a background response the run gives up on: this run had none.)
    ran = sorted({*types, f'{name}.model_cancel'})
    durable = temporal_agent(dynamic_agents[form])
    assert ran == durable.durable_unit_names() == sorted(durable.activities_by_name)


async def test_tool_configured_false_runs_in_the_workflow(plugin_client: Client, task_queue: str, form: Form) -> None:
    TOOL_CALLS.clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[InlineToolWorkflow]):
        handle = await plugin_client.start_workflow(
            InlineToolWorkflow.run, args=['Both', form], id=f'inline-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'Both done.'
    assert TOOL_CALLS == ['io:3']
    name = inline_agents[form].name
    assert await activity_types(handle) == [
        f'{name}.model_request',
        f'{name}.tool_call.agent.io',
        f'{name}.model_request',
    ]
    # `pure` runs in the workflow: no activity is registered or listed for it.
    durable = temporal_agent(inline_agents[form])
    assert durable.durable_unit_names() == sorted(durable.activities_by_name)
    assert durable.durable_unit_names() == [
        f'{name}.model_cancel',
        f'{name}.model_request',
        f'{name}.tool_call.agent.io',
    ]


async def test_tool_configured_local_runs_as_a_local_activity(
    plugin_client: Client, task_queue: str, form: Form
) -> None:
    """`LocalActivity()` skips the task queue: no activity events, a marker in the history, retries still apply."""
    TOOL_CALLS.clear()
    FLAKY_ATTEMPTS.clear()
    async with Worker(plugin_client, task_queue=task_queue, workflows=[LocalToolWorkflow]):
        handle = await plugin_client.start_workflow(
            LocalToolWorkflow.run, args=['Look both up', form], id=f'local-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'Looked up.'
    assert sorted(TOOL_CALLS) == ['lookup:a', 'lookup:a', 'slow:b']  # the first lookup failed, its retry succeeded
    name = local_agents[form].name
    assert await activity_types(handle) == [
        f'{name}.model_request',
        f'{name}.tool_call.agent.slow',
        f'{name}.model_request',
    ]
    markers = [
        event.marker_recorded_event_attributes
        for event in await history_events(handle)
        if event.HasField('marker_recorded_event_attributes')
    ]
    assert [marker.marker_name for marker in markers] == ['core_local_activity']
