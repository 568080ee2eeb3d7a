"""Events reach the event_stream_handler as they happen; each non-model event is delivered from its own task."""

from __future__ import annotations

from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any

from durable_core.testing import DurableCallCounter, ToolCall
from durable_prefect import PrefectAgent
from prefect import flow
from prefect.context import TaskRunContext
from pydantic_ai import Agent, AgentStreamEvent, RunContext
from pydantic_ai.messages import FunctionToolCallEvent, FunctionToolResultEvent, PartStartEvent
from support import CountingModel


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


async def test_events_arrive_in_real_time_from_tasks(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    log: list[str] = []
    agent = Agent(CountingModel([[ToolCall('ping', {})], 'pong received'], counter), name='events')

    @agent.tool_plain
    def ping() -> str:
        log.append('ping ran')
        return 'pong'

    prefect_agent = PrefectAgent(agent, event_stream_handler=_recording_handler(log))
    assert (await prefect_agent.run('go')).output == 'pong received'
    # Model events come live from inside the model-request task; the tool-call event is delivered (from its
    # own task) before the tool runs, and the result event after it: as things happen, not at the end.
    assert log.index('FunctionToolCallEvent@events.event_handler:ping') < log.index('ping ran')
    assert log.index('ping ran') < log.index('FunctionToolResultEvent@events.event_handler')
    assert log[0] == 'PartStartEvent@events.model_request'
    places = {entry.split(':')[0].split('@')[1] for entry in log if '@' in entry}
    assert places == {'events.model_request', 'events.event_handler'}
    # The second model request's events come after the tool ran.
    assert f'{PartStartEvent.__name__}@events.model_request' in log[log.index('ping ran') :]


async def test_two_identical_events_in_one_run_are_both_delivered(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    events: list[AgentStreamEvent] = []

    async def handler(ctx: RunContext[Any], stream: AsyncIterable[AgentStreamEvent]) -> None:
        events.extend([event async for event in stream if isinstance(event, FunctionToolCallEvent)])

    # The same call, with the same id, in two steps: two equal tool-call events.
    same = ToolCall('ping', {'n': 1}, tool_call_id='same-id')
    agent = Agent(CountingModel([[same], [same], 'done'], counter), name='identical_events')

    @agent.tool_plain
    def ping(n: int) -> str:
        return 'pong'

    prefect_agent = PrefectAgent(agent, event_stream_handler=handler)

    @flow
    async def outer() -> None:
        # And two runs of the agent with the same prompt in one flow: each delivers its own events.
        await prefect_agent.run('go')
        await prefect_agent.run('go')

    await outer()
    assert len(events) == 4
    assert all(event == events[0] for event in events)


async def test_flow_retry_does_not_deliver_events_again(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    log: list[str] = []
    model = CountingModel([[ToolCall('step', {'n': 1})], [ToolCall('step', {'n': 2})], 'done'], counter)
    agent = Agent(model, name='events_retry')

    @agent.tool_plain
    def step(n: int) -> str:
        counter.record(f'step:{n}')
        if n == 2 and counter.count('step:2') == 1:
            raise RuntimeError('first attempt of step 2 fails')
        return f'step {n} ok'

    prefect_agent = PrefectAgent(agent, event_stream_handler=_recording_handler(log, counter))

    @flow(retries=1)
    async def outer() -> str:
        return (await prefect_agent.run('go')).output

    assert await outer() == 'done'
    # Two tool calls, each announced once and answered once, although the flow ran twice.
    assert counter.counts() == {
        'model': 3,
        'step:1': 1,
        'step:2': 2,
        'event:FunctionToolCallEvent': 2,
        'event:FunctionToolResultEvent': 2,
    }


async def test_a_handler_passed_to_run_gets_every_event_outside_and_inside_a_flow(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    log: list[str] = []
    model = CountingModel([[ToolCall('ping', {})], 'pong received'], counter)
    agent = Agent(model, name='run_time_handler')

    @agent.tool_plain
    def ping() -> str:
        return 'pong'

    prefect_agent = PrefectAgent(agent)  # no handler of its own: the one passed to run() gets every event

    assert (await prefect_agent.run('go', event_stream_handler=_recording_handler(log))).output == 'pong received'
    # Model events come live from the model-request task; tool events from flow code, not from tasks of their own,
    # so a run makes the same tasks whether or not its caller passed a handler.
    assert log[0] == 'PartStartEvent@run_time_handler.model_request'
    assert 'FunctionToolCallEvent@flow:ping' in log
    assert 'FunctionToolResultEvent@flow' in log
    assert not any('event_handler' in entry for entry in log)

    inside: list[str] = []

    @flow
    async def outer() -> str:
        return (await prefect_agent.run('go on', event_stream_handler=_recording_handler(inside))).output

    assert await outer() == 'pong received'
    assert 'FunctionToolCallEvent@flow:ping' in inside
    assert 'PartStartEvent@run_time_handler.model_request' in inside
