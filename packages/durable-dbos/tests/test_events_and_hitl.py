"""Event stream handlers inside DBOS steps, and human-in-the-loop runs with deferred tools, in both durable forms.

Each test runs once per form (the `form` fixture): `DBOSAgent(agent).run()`, which starts its own workflow, and
`Agent(..., capabilities=[DBOSDurability(...)])` run in a workflow of the test's. Both journal the same steps, named
after their agent.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable

from _support import Form, SwappableModel, durable_forms, step_names
from dbos import DBOS, SetWorkflowID
from durable_core.testing import ToolCall
from durable_dbos import DBOSAgent
from pydantic_ai import (
    AgentStreamEvent,
    CallDeferred,
    DeferredToolRequests,
    DeferredToolResults,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    RunContext,
    Tool,
    ToolDenied,
)
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import ExternalToolset

seen: list[tuple[str, bool]] = []
"""(event kind, whether the handler ran inside a DBOS step) in delivery order."""
executed: list[str] = []


async def record_events(ctx: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in events:
        label = type(event).__name__
        if isinstance(event, FunctionToolCallEvent | FunctionToolResultEvent):
            label += f':{event.tool_call_id}'
        seen.append((label, DBOS.step_id is not None))


def echo(text: str) -> str:
    executed.append(text)
    return text


events_model = SwappableModel()
events = durable_forms('events', events_model, tools=[echo], event_stream_handler=record_events)


def delete_file(path: str) -> str:
    executed.append(f'delete:{path}')
    return f'deleted {path}'


def ask_human(question: str) -> str:
    raise CallDeferred(metadata={'question': question})


hitl_model = SwappableModel()
hitl = durable_forms(
    'hitl',
    hitl_model,
    tools=[Tool(delete_file, requires_approval=True), ask_human],
    output_type=[str, DeferredToolRequests],
    tool_step_config={},
)


def _reset() -> None:
    seen.clear()
    executed.clear()


async def test_events_reach_the_handler_in_order_each_from_a_step(dbos: DBOS, form: Form) -> None:
    _reset()
    agent = events[form]
    events_model.use([[ToolCall('echo', {'text': 'a'}, 'c1'), ToolCall('echo', {'text': 'b'}, 'c2')], 'Echoed.'])
    workflow_id = f'events-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await agent.run('Echo twice')
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
    assert names.count(f'{agent.name}.event_handler') == 4
    assert names.count(f'{agent.name}.model_request') == 2


async def test_approval_required_tool_ends_the_run_and_resumes_with_results(dbos: DBOS, form: Form) -> None:
    _reset()
    hitl_model.use([[ToolCall('delete_file', {'path': '/tmp/x'}, 'del-1')], 'Deleted it.'])
    first = await hitl[form].run('Delete /tmp/x')
    assert isinstance(first.output, DeferredToolRequests)
    assert [call.tool_call_id for call in first.output.approvals] == ['del-1']
    assert executed == []

    workflow_id = f'approved-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        second = await hitl[form].run(
            message_history=first.all_messages(), deferred_tool_results=DeferredToolResults(approvals={'del-1': True})
        )
    assert second.output == 'Deleted it.'
    assert executed == ['delete:/tmp/x']
    # The approved call runs in the resumed run's own step.
    assert (await step_names(workflow_id)).count(f'{hitl[form].name}.tool_call.agent.delete_file') == 1


async def test_denied_approval_does_not_run_the_tool(dbos: DBOS, form: Form) -> None:
    _reset()
    hitl_model.use([[ToolCall('delete_file', {'path': '/etc'}, 'del-2')], 'Not deleted.'])
    first = await hitl[form].run('Delete /etc')
    assert isinstance(first.output, DeferredToolRequests)
    second = await hitl[form].run(
        message_history=first.all_messages(),
        deferred_tool_results=DeferredToolResults(approvals={'del-2': ToolDenied('no')}),
    )
    assert second.output == 'Not deleted.'
    assert executed == []


async def test_external_call_is_deferred_and_resumed_with_its_result(dbos: DBOS, form: Form) -> None:
    _reset()
    hitl_model.use([[ToolCall('ask_human', {'question': 'Proceed?'}, 'ask-1')], 'You said yes.'])
    first = await hitl[form].run('Ask me')
    assert isinstance(first.output, DeferredToolRequests)
    assert [call.tool_call_id for call in first.output.calls] == ['ask-1']
    assert first.output.metadata == {'ask-1': {'question': 'Proceed?'}}

    second = await hitl[form].run(
        message_history=first.all_messages(), deferred_tool_results=DeferredToolResults(calls={'ask-1': 'yes'})
    )
    assert second.output == 'You said yes.'


pick_city = ToolDefinition(
    name='pick_city', parameters_json_schema={'type': 'object', 'properties': {'hint': {'type': 'string'}}}
)


async def test_an_external_toolset_at_run_time_defers_its_call(dbos: DBOS, form: Form) -> None:
    """`run(toolsets=[ExternalToolset(...)])`, as PydanticAI 2.68 allows: nothing runs its tools."""
    _reset()
    hitl_model.use([[ToolCall('pick_city', {'hint': 'warm'}, 'pick-1')], 'Lisbon it is.'])
    first = await hitl[form].run('Pick a city', toolsets=[ExternalToolset([pick_city])])
    assert isinstance(first.output, DeferredToolRequests)
    assert [call.tool_name for call in first.output.calls] == ['pick_city']

    second = await hitl[form].run(
        message_history=first.all_messages(),
        deferred_tool_results=DeferredToolResults(calls={'pick-1': 'Lisbon'}),
        toolsets=[ExternalToolset([pick_city])],
    )
    assert second.output == 'Lisbon it is.'
    assert executed == []


async def test_the_wrappers_run_journals_an_external_toolset_with_its_inputs(dbos: DBOS) -> None:
    """Wrapper only: its run is a workflow of its own, whose inputs a recovery reads back; the capability's run has
    none (it runs in the app's workflow, whose own inputs a recovery reads back)."""
    hitl_model.use([[ToolCall('pick_city', {'hint': 'warm'}, 'pick-1')], 'Lisbon it is.'])
    wrapper = hitl['wrapper'].agent
    assert isinstance(wrapper, DBOSAgent)
    workflow_id = f'external-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        await wrapper.run('Pick a city', toolsets=[ExternalToolset([pick_city])])
    [status] = await DBOS.list_workflows_async(workflow_ids=[workflow_id], load_input=True)
    assert status.input is not None
    assert wrapper.decode_inputs(status.input['args'][0]).external_tools == [pick_city]


def shout(text: str) -> str:
    executed.append(text)
    return text.upper()


run_handler_model = SwappableModel()
run_handler = durable_forms('run_handler', run_handler_model, tools=[shout])
"""No handler of its own: the one passed to `run()` gets every event."""


@DBOS.workflow()
async def run_with_handler_in_workflow(form: Form, prompt: str) -> str:
    return (await run_handler[form].agent.run(prompt, event_stream_handler=record_events)).output


async def test_a_handler_passed_to_run_gets_every_event_and_adds_no_step(dbos: DBOS, form: Form) -> None:
    _reset()
    run_handler_model.use([[ToolCall('shout', {'text': 'a'}, 'c1')], 'Shouted.'])
    with_handler = f'run-handler-{uuid.uuid4()}'
    with SetWorkflowID(with_handler):
        result = await run_handler[form].run('Shout', event_stream_handler=record_events)
    assert result.output == 'Shouted.'
    tool_events = [(label, in_step) for label, in_step in seen if label.startswith('Function')]
    # Tool events are delivered in workflow code: no step journals them, so a run journals the same steps whether
    # or not its caller passed a handler (a recovery in another process has none).
    assert tool_events == [('FunctionToolCallEvent:c1', False), ('FunctionToolResultEvent:c1', False)]
    assert [label for label, _ in seen] == [
        'PartStartEvent',
        'PartEndEvent',
        'FunctionToolCallEvent:c1',
        'FunctionToolResultEvent:c1',
        'PartStartEvent',
        'FinalResultEvent',
        'PartEndEvent',
    ]
    model_events = [in_step for label, in_step in seen if not label.startswith('Function')]
    # The wrapper's model step hands its live stream to the handler; PydanticAI 2.68 documents that a handler passed
    # to the run of an agent with a durability capability runs workflow-side, its model events replayed after the
    # model step completes (the capability's own handler is the one that gets them inside the step).
    assert model_events == [form == 'wrapper'] * len(model_events)
    assert executed == ['a']

    _reset()
    run_handler_model.use([[ToolCall('shout', {'text': 'a'}, 'c1')], 'Shouted.'])
    without_handler = f'run-handler-{uuid.uuid4()}'
    with SetWorkflowID(without_handler):
        await run_handler[form].run('Shout')
    assert seen == []
    steps = await step_names(with_handler)
    assert steps == await step_names(without_handler)
    assert steps.count(f'{run_handler[form].name}.model_request') == 2


async def test_a_handler_passed_to_run_replaces_the_agents_in_the_same_steps(dbos: DBOS, form: Form) -> None:
    _reset()
    other: list[str] = []

    async def other_handler(ctx: RunContext[None], events: AsyncIterable[AgentStreamEvent]) -> None:
        async for event in events:
            other.append(type(event).__name__)

    events_model.use([[ToolCall('echo', {'text': 'a'}, 'c1')], 'Echoed.'])
    workflow_id = f'events-run-handler-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        await events[form].run('Echo', event_stream_handler=other_handler)
    assert other.count('FunctionToolCallEvent') == 1
    assert 'PartStartEvent' in other
    if form == 'wrapper':
        assert seen == []  # the wrapper's handler is replaced for this run, as the agent's own in PydanticAI
    else:
        # By design: the capability's handler is a capability of the agent, which PydanticAI 2.68 keeps beside a
        # handler passed to the run; it gets the same events, from the same steps.
        assert [label.split(':')[0] for label, _ in seen] == other
        assert all(in_step for _, in_step in seen)
    names = await step_names(workflow_id)
    assert names.count(f'{events[form].name}.event_handler') == 2  # the same event steps the agent's handler journals


async def test_a_handler_passed_to_run_in_workflow_code_reaches_the_run(dbos: DBOS, form: Form) -> None:
    """The wrapper's run is a child workflow of the app's; the capability's runs in the app's workflow itself."""
    _reset()
    run_handler_model.use([[ToolCall('shout', {'text': 'b'}, 'c2')], 'Shouted.'])
    assert await run_with_handler_in_workflow(form, 'Shout') == 'Shouted.'
    assert ('FunctionToolResultEvent:c2', False) in seen
    # Model events from inside the model step for the wrapper, replayed workflow-side for the capability (see above).
    assert [in_step for label, in_step in seen if label == 'PartStartEvent'] == [form == 'wrapper'] * 2
