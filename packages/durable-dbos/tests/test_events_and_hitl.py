"""Event stream handlers inside DBOS steps, and human-in-the-loop runs with deferred tools."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable

from _support import SwappableModel, step_names
from dbos import DBOS, SetWorkflowID
from durable_core.testing import ToolCall
from durable_dbos import DBOSAgent
from pydantic_ai import (
    Agent,
    AgentStreamEvent,
    CallDeferred,
    DeferredToolRequests,
    DeferredToolResults,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    RunContext,
    ToolDenied,
)
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import ExternalToolset

seen: list[tuple[str, bool]] = []
"""(event kind, whether the handler ran inside a DBOS step) in delivery order."""
executed: list[str] = []

events_model = SwappableModel()


async def record_events(ctx: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in events:
        label = type(event).__name__
        if isinstance(event, FunctionToolCallEvent | FunctionToolResultEvent):
            label += f':{event.tool_call_id}'
        seen.append((label, DBOS.step_id is not None))


events_agent = Agent(events_model, name='events')


@events_agent.tool_plain
def echo(text: str) -> str:
    executed.append(text)
    return text


dbos_events = DBOSAgent(events_agent, event_stream_handler=record_events)

hitl_model = SwappableModel()
hitl_agent = Agent(hitl_model, name='hitl', output_type=[str, DeferredToolRequests])


@hitl_agent.tool_plain(requires_approval=True)
def delete_file(path: str) -> str:
    executed.append(f'delete:{path}')
    return f'deleted {path}'


@hitl_agent.tool_plain
def ask_human(question: str) -> str:
    raise CallDeferred(metadata={'question': question})


dbos_hitl = DBOSAgent(hitl_agent, tool_step_config={})


def _reset() -> None:
    seen.clear()
    executed.clear()


async def test_events_reach_the_handler_in_order_each_from_a_step(dbos: DBOS) -> None:
    _reset()
    events_model.use([[ToolCall('echo', {'text': 'a'}, 'c1'), ToolCall('echo', {'text': 'b'}, 'c2')], 'Echoed.'])
    workflow_id = f'events-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_events.run('Echo twice')
    assert result.output == 'Echoed.'
    labels = [label for label, _ in seen]
    tool_events = [label for label in labels if label.startswith('Function')]
    assert tool_events == [
        'FunctionToolCallEvent:c1',
        'FunctionToolCallEvent:c2',
        'FunctionToolResultEvent:c1',
        'FunctionToolResultEvent:c2',
    ]
    # Model events stream live inside the model step; every event was handled inside some step.
    assert labels[0] == 'PartStartEvent'
    assert 'FinalResultEvent' in labels
    assert all(in_step for _, in_step in seen)
    names = await step_names(workflow_id)
    assert names.count('events.event_handler') == 4
    assert names.count('events.model_request') == 2


async def test_approval_required_tool_ends_the_run_and_resumes_with_results(dbos: DBOS) -> None:
    _reset()
    hitl_model.use([[ToolCall('delete_file', {'path': '/tmp/x'}, 'del-1')], 'Deleted it.'])
    first = await dbos_hitl.run('Delete /tmp/x')
    assert isinstance(first.output, DeferredToolRequests)
    assert [call.tool_call_id for call in first.output.approvals] == ['del-1']
    assert executed == []

    second = await dbos_hitl.run(
        message_history=first.all_messages(), deferred_tool_results=DeferredToolResults(approvals={'del-1': True})
    )
    assert second.output == 'Deleted it.'
    assert executed == ['delete:/tmp/x']


async def test_denied_approval_does_not_run_the_tool(dbos: DBOS) -> None:
    _reset()
    hitl_model.use([[ToolCall('delete_file', {'path': '/etc'}, 'del-2')], 'Not deleted.'])
    first = await dbos_hitl.run('Delete /etc')
    assert isinstance(first.output, DeferredToolRequests)
    second = await dbos_hitl.run(
        message_history=first.all_messages(),
        deferred_tool_results=DeferredToolResults(approvals={'del-2': ToolDenied('no')}),
    )
    assert second.output == 'Not deleted.'
    assert executed == []


async def test_external_call_is_deferred_and_resumed_with_its_result(dbos: DBOS) -> None:
    _reset()
    hitl_model.use([[ToolCall('ask_human', {'question': 'Proceed?'}, 'ask-1')], 'You said yes.'])
    first = await dbos_hitl.run('Ask me')
    assert isinstance(first.output, DeferredToolRequests)
    assert [call.tool_call_id for call in first.output.calls] == ['ask-1']
    assert first.output.metadata == {'ask-1': {'question': 'Proceed?'}}

    second = await dbos_hitl.run(
        message_history=first.all_messages(), deferred_tool_results=DeferredToolResults(calls={'ask-1': 'yes'})
    )
    assert second.output == 'You said yes.'


async def test_an_external_toolset_at_run_time_defers_its_call_and_is_journaled_with_the_run(dbos: DBOS) -> None:
    """`run(toolsets=[ExternalToolset(...)])`, as PydanticAI 2.68 allows: nothing runs, so the run's inputs hold it."""
    _reset()
    hitl_model.use([[ToolCall('pick_city', {'hint': 'warm'}, 'pick-1')], 'Lisbon it is.'])
    pick_city = ToolDefinition(
        name='pick_city', parameters_json_schema={'type': 'object', 'properties': {'hint': {'type': 'string'}}}
    )
    workflow_id = f'external-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        first = await dbos_hitl.run('Pick a city', toolsets=[ExternalToolset([pick_city])])
    assert isinstance(first.output, DeferredToolRequests)
    assert [call.tool_name for call in first.output.calls] == ['pick_city']
    [status] = await DBOS.list_workflows_async(workflow_ids=[workflow_id], load_input=True)
    assert status.input is not None
    assert dbos_hitl.decode_inputs(status.input['args'][0]).external_tools == [pick_city]

    second = await dbos_hitl.run(
        message_history=first.all_messages(),
        deferred_tool_results=DeferredToolResults(calls={'pick-1': 'Lisbon'}),
        toolsets=[ExternalToolset([pick_city])],
    )
    assert second.output == 'Lisbon it is.'
    assert executed == []


run_handler_model = SwappableModel()
run_handler_agent = Agent(run_handler_model, name='run_handler')


@run_handler_agent.tool_plain
def shout(text: str) -> str:
    executed.append(text)
    return text.upper()


dbos_run_handler = DBOSAgent(run_handler_agent)
"""No handler of its own: the one passed to `run()` gets every event."""


@DBOS.workflow()
async def run_with_handler_in_workflow(prompt: str) -> str:
    return (await dbos_run_handler.run(prompt, event_stream_handler=record_events)).output


async def test_a_handler_passed_to_run_gets_every_event_and_adds_no_step(dbos: DBOS) -> None:
    _reset()
    run_handler_model.use([[ToolCall('shout', {'text': 'a'}, 'c1')], 'Shouted.'])
    with_handler = f'run-handler-{uuid.uuid4()}'
    with SetWorkflowID(with_handler):
        result = await dbos_run_handler.run('Shout', event_stream_handler=record_events)
    assert result.output == 'Shouted.'
    tool_events = [(label, in_step) for label, in_step in seen if label.startswith('Function')]
    # Tool events are delivered in workflow code: no step journals them, so a run journals the same steps whether
    # or not its caller passed a handler (a recovery in another process has none).
    assert tool_events == [('FunctionToolCallEvent:c1', False), ('FunctionToolResultEvent:c1', False)]
    model_events = [in_step for label, in_step in seen if not label.startswith('Function')]
    assert model_events
    assert all(model_events)
    assert executed == ['a']

    _reset()
    run_handler_model.use([[ToolCall('shout', {'text': 'a'}, 'c1')], 'Shouted.'])
    without_handler = f'run-handler-{uuid.uuid4()}'
    with SetWorkflowID(without_handler):
        await dbos_run_handler.run('Shout')
    assert seen == []
    assert await step_names(with_handler) == await step_names(without_handler)


async def test_a_handler_passed_to_run_replaces_the_wrappers_in_the_same_steps(dbos: DBOS) -> None:
    _reset()
    other: list[str] = []

    async def other_handler(ctx: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
        async for event in events:
            other.append(type(event).__name__)

    events_model.use([[ToolCall('echo', {'text': 'a'}, 'c1')], 'Echoed.'])
    workflow_id = f'events-run-handler-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        await dbos_events.run('Echo', event_stream_handler=other_handler)
    assert seen == []  # the wrapper's handler is replaced for this run, as in PydanticAI
    assert other.count('FunctionToolCallEvent') == 1
    assert 'PartStartEvent' in other
    names = await step_names(workflow_id)
    assert names.count('events.event_handler') == 2  # the same event steps the wrapper's handler journals


async def test_a_handler_passed_to_run_in_workflow_code_reaches_the_child_run(dbos: DBOS) -> None:
    _reset()
    run_handler_model.use([[ToolCall('shout', {'text': 'b'}, 'c2')], 'Shouted.'])
    assert await run_with_handler_in_workflow('Shout') == 'Shouted.'
    assert ('FunctionToolResultEvent:c2', False) in seen
    assert any(in_step for _, in_step in seen)
