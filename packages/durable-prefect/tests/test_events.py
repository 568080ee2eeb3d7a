"""Events reach the event_stream_handler as they happen; each non-model event is delivered from its own task.

Each test runs once per form (the `form` fixture): `PrefectAgent(agent)`, whose `run()` starts a flow of its own, and
`Agent(..., capabilities=[PrefectDurability(...)])` run in a flow. Both make the same tasks, named after their agent.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any

from durable_core.testing import DurableCallCounter, ToolCall
from prefect import flow
from prefect.context import TaskRunContext
from pydantic_ai import AgentStreamEvent, RunContext
from pydantic_ai.messages import FunctionToolCallEvent, FunctionToolResultEvent, PartStartEvent
from support import CountingModel, Form, durable_form


def _recording_handler(log: list[str], counter: DurableCallCounter | None = None):
    async def handler(ctx: RunContext[Any], events: AsyncIterable[AgentStreamEvent]) -> None:
        task_run = TaskRunContext.get()
        where = task_run.task.name if task_run else 'flow'
        async for event in events:
            entry = f'{type(event).__name__}@{where}'
            if isinstance(event, FunctionToolCallEvent):
                entry += f':{event.part.tool_name}'
            log.append(entry)
            if counter is not None and isinstance(event, FunctionToolCallEvent | FunctionToolResultEvent):
                counter.record(f'event:{type(event).__name__}')

    return handler


async def test_events_arrive_in_real_time_from_tasks(tmp_path: Path, form: Form) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    log: list[str] = []

    def ping() -> str:
        log.append('ping ran')
        return 'pong'

    model = CountingModel([[ToolCall('ping', {})], 'pong received'], counter)
    agent = durable_form(form, model, name='events', tools=[ping], event_stream_handler=_recording_handler(log))
    assert (await agent.run('go')).output == 'pong received'
    # Model events come live from inside the model-request task; the tool-call event is delivered (from its
    # own task) before the tool runs, and the result event after it: as things happen, not at the end.
    assert log.index(f'FunctionToolCallEvent@{agent.name}.event_handler:ping') < log.index('ping ran')
    assert log.index('ping ran') < log.index(f'FunctionToolResultEvent@{agent.name}.event_handler')
    assert log[0] == f'PartStartEvent@{agent.name}.model_request'
    places = {entry.split(':')[0].split('@')[1] for entry in log if '@' in entry}
    assert places == {f'{agent.name}.model_request', f'{agent.name}.event_handler'}
    # The second model request's events come after the tool ran.
    assert f'{PartStartEvent.__name__}@{agent.name}.model_request' in log[log.index('ping ran') :]


async def test_two_identical_events_in_one_run_are_both_delivered(tmp_path: Path, form: Form) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    events: list[AgentStreamEvent] = []

    async def handler(ctx: RunContext[Any], stream: AsyncIterable[AgentStreamEvent]) -> None:
        events.extend([event async for event in stream if isinstance(event, FunctionToolCallEvent)])

    def ping(n: int) -> str:
        return 'pong'

    # The same call, with the same id, in two steps: two equal tool-call events.
    same = ToolCall('ping', {'n': 1}, tool_call_id='same-id')
    model = CountingModel([[same], [same], 'done'], counter)
    agent = durable_form(form, model, name='identical_events', tools=[ping], event_stream_handler=handler).agent

    @flow
    async def outer() -> None:
        # And two runs of the agent with the same prompt in one flow: each delivers its own events.
        await agent.run('go')
        await agent.run('go')

    await outer()
    assert len(events) == 4
    assert all(event == events[0] for event in events)


async def test_flow_retry_does_not_deliver_events_again(tmp_path: Path, form: Form) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    log: list[str] = []
    model = CountingModel([[ToolCall('step', {'n': 1})], [ToolCall('step', {'n': 2})], 'done'], counter)

    def step(n: int) -> str:
        counter.record(f'step:{n}')
        if n == 2 and counter.count('step:2') == 1:
            raise RuntimeError('first attempt of step 2 fails')
        return f'step {n} ok'

    handler = _recording_handler(log, counter)
    agent = durable_form(form, model, name='events_retry', tools=[step], event_stream_handler=handler).agent

    @flow(retries=1)
    async def outer() -> str:
        return (await agent.run('go')).output

    assert await outer() == 'done'
    # Two tool calls, each announced once and answered once, although the flow ran twice.
    assert counter.counts() == {
        'model': 3,
        'step:1': 1,
        'step:2': 2,
        'event:FunctionToolCallEvent': 2,
        'event:FunctionToolResultEvent': 2,
    }


# Where a handler passed to `run()` gets the model events: live in the model-request task from the wrapper; from flow
# code under a capability, replayed after the request completes (PydanticAI 2.68 documents the per-run handler of an
# agent with a durability capability so; the capability's own handler gets them live in the task).
RUN_HANDLER_MODEL_EVENTS_FROM = {'wrapper': '{name}.model_request', 'capability': 'flow'}


async def test_a_handler_passed_to_run_gets_every_event_outside_and_inside_a_flow(tmp_path: Path, form: Form) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    log: list[str] = []
    model = CountingModel([[ToolCall('ping', {})], 'pong received'], counter)

    def ping() -> str:
        return 'pong'

    agent = durable_form(form, model, name='run_time_handler', tools=[ping])  # no handler of its own
    model_events_from = RUN_HANDLER_MODEL_EVENTS_FROM[form].format(name=agent.name)

    assert (await agent.run('go', event_stream_handler=_recording_handler(log))).output == 'pong received'
    # Tool events come from flow code, not from tasks of their own, so a run makes the same tasks whether or not its
    # caller passed a handler.
    assert log[0] == f'PartStartEvent@{model_events_from}'
    assert 'FunctionToolCallEvent@flow:ping' in log
    assert 'FunctionToolResultEvent@flow' in log
    assert not any('event_handler' in entry for entry in log)

    inside: list[str] = []

    @flow
    async def outer() -> str:
        return (await agent.agent.run('go on', event_stream_handler=_recording_handler(inside))).output

    assert await outer() == 'pong received'
    assert 'FunctionToolCallEvent@flow:ping' in inside
    assert f'PartStartEvent@{model_events_from}' in inside
