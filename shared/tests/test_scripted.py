from __future__ import annotations

import asyncio
import threading

import anyio.to_thread
import pytest
from durable_core.testing import ScriptedModel, ScriptExhaustedError, Step, ToolCall
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.function import FunctionModel


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def tool_returns(model: ScriptedModel, request_index: int) -> list[ToolReturnPart]:
    last = model.requests[request_index][-1]
    assert isinstance(last, ModelRequest)
    return [part for part in last.parts if isinstance(part, ToolReturnPart)]


async def test_answers_text_and_is_a_function_model() -> None:
    model = ScriptedModel(['Hello there.'])

    result = await Agent(model).run('Hi')

    assert isinstance(model, FunctionModel)
    assert result.output == 'Hello there.'
    assert model.request_count == 1


async def test_tool_call_round_runs_the_tool_and_sends_its_result_back() -> None:
    model = ScriptedModel([[ToolCall('add', {'a': 1, 'b': 2}, tool_call_id='call-add')], 'The sum is 3.'])

    result = await Agent(model, tools=[add]).run('What is 1 + 2?')

    assert result.output == 'The sum is 3.'
    assert model.request_count == 2
    [returned] = tool_returns(model, 1)
    assert (returned.tool_name, returned.content, returned.tool_call_id) == ('add', 3, 'call-add')


async def test_one_step_can_answer_text_and_several_tool_calls() -> None:
    model = ScriptedModel([Step(text='Adding.', tool_calls=[ToolCall('add', {'a': 1, 'b': 2}), ToolCall('add')])])

    response = await model.request([ModelRequest.user_text_prompt('go')], None, ModelRequestParameters())

    assert isinstance(response.parts[0], TextPart)
    assert response.parts[0].content == 'Adding.'
    calls = [part for part in response.parts if isinstance(part, ToolCallPart)]
    assert [(call.tool_name, call.args) for call in calls] == [('add', {'a': 1, 'b': 2}), ('add', {})]


async def test_streams_text_in_several_chunks() -> None:
    text = 'A streamed answer in several words.'
    model = ScriptedModel([text])

    async with Agent(model).run_stream('Hi') as result:
        chunks = [chunk async for chunk in result.stream_text(delta=True, debounce_by=None)]

    assert len(chunks) > 1
    assert ''.join(chunks) == text


async def test_streams_a_tool_call_round() -> None:
    model = ScriptedModel([ToolCall('add', {'a': 2, 'b': 5}), 'Seven.'])

    async with Agent(model, tools=[add]).run_stream('2 + 5?') as result:
        output = await result.get_output()

    assert output == 'Seven.'
    assert model.request_count == 2
    [returned] = tool_returns(model, 1)
    assert returned.content == 7


async def test_request_after_the_last_step_raises() -> None:
    model = ScriptedModel(['only answer'])
    agent = Agent(model)
    await agent.run('first')

    with pytest.raises(ScriptExhaustedError, match='has 1 steps, so request 2 has no answer'):
        await agent.run('second')


async def test_error_step_raises_and_the_next_call_gets_the_next_step() -> None:
    model = ScriptedModel([Step(error=ModelHTTPError(503, 'scripted')), 'recovered'])
    agent = Agent(model)

    with pytest.raises(ModelHTTPError) as raised:
        await agent.run('first')
    result = await agent.run('again')

    assert raised.value.status_code == 503
    assert result.output == 'recovered'


async def test_step_blocks_until_released_and_calls_before_first() -> None:
    reached = threading.Event()
    release = threading.Event()
    model = ScriptedModel([ToolCall('add', {'a': 1, 'b': 1}), Step(text='two', before=reached.set, wait_for=release)])

    run = asyncio.ensure_future(Agent(model, tools=[add]).run('1 + 1?'))
    assert await anyio.to_thread.run_sync(reached.wait, 10)

    # The second request arrived and is held: the run can't have finished.
    assert model.request_count == 2
    assert not run.done()
    release.set()
    result = await run

    assert result.output == 'two'


async def test_async_before_hook_is_awaited() -> None:
    seen: list[str] = []

    async def before() -> None:
        await asyncio.sleep(0)
        seen.append('before')

    result = await Agent(ScriptedModel([Step(text='done', before=before)])).run('go')

    assert result.output == 'done'
    assert seen == ['before']


async def test_position_by_history_picks_the_step_a_restarted_process_would_reach() -> None:
    first_process = ScriptedModel(['first', 'second'], position='history')
    first = await Agent(first_process).run('one')

    # A fresh model, as in a restarted process, continuing the same conversation.
    restarted = ScriptedModel(['first', 'second'], position='history')
    second = await Agent(restarted).run('two', message_history=first.all_messages())

    assert second.output == 'second'
    assert restarted.request_count == 1


async def test_position_by_calls_gives_a_retried_request_the_next_step() -> None:
    model = ScriptedModel(['first', 'second'])
    history: list[ModelMessage] = [ModelRequest.user_text_prompt('hi')]

    first = await model.request(history, None, ModelRequestParameters())
    second = await model.request(history, None, ModelRequestParameters())

    assert [first.parts, second.parts] == [[TextPart('first')], [TextPart('second')]]


def test_a_step_needs_something_to_answer() -> None:
    with pytest.raises(ValueError, match='needs `text`, `tool_calls` or `error`'):
        Step()


def test_shorthands_become_steps() -> None:
    call = ToolCall('add', {'a': 1})
    model = ScriptedModel(['text', call, [call, call], Step(text='step')])

    assert model.steps == (
        Step(text='text'),
        Step(tool_calls=(call,)),
        Step(tool_calls=(call, call)),
        Step(text='step'),
    )
    assert ModelResponse(parts=model.steps[0].response_parts()).parts == [TextPart('text')]
