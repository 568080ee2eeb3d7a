from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import anyio.to_thread
import pytest
from durable_core.testing import (
    FaultKind,
    FaultPlan,
    OpenAICompatibleServer,
    RecordedRequest,
    ScriptExhaustedError,
    Step,
    ToolCall,
)
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelAPIError, ModelHTTPError
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ModelSettings

NO_SDK_RETRIES = ModelSettings(max_retries=0)


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def chat_model(server: OpenAICompatibleServer, settings: ModelSettings | None = None) -> OpenAIChatModel:
    provider = OpenAIProvider(base_url=server.base_url, api_key='test-key')
    return OpenAIChatModel('gpt-4o', provider=provider, settings=settings)


def post_json(url: str, body: object, timeout: float = 10) -> tuple[int, dict[str, object]]:
    """POST `body` with the standard library, returning the status and the JSON answer, errors included."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={'Content-Type': 'application/json'}, method='POST'
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def completions_url(server: OpenAICompatibleServer) -> str:
    return f'{server.base_url}/chat/completions'


CHAT_BODY = {'model': 'gpt-4o', 'messages': [{'role': 'user', 'content': 'Hi'}]}


@pytest.fixture
def server() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer(['Hello there.']) as running:
        yield running


async def test_agent_gets_the_scripted_text_with_usage_and_the_request_is_recorded(
    server: OpenAICompatibleServer,
) -> None:
    result = await Agent(chat_model(server)).run('What is 1 + 2?')

    assert result.output == 'Hello there.'
    # The server counts the words of the messages' text as prompt tokens and of the answer as completion tokens.
    assert (result.usage.input_tokens, result.usage.output_tokens) == (5, 2)
    assert server.calls.total == 1
    assert server.calls.succeeded == 1
    [request] = server.requests
    assert (request.number, request.method, request.path, request.fault) == (1, 'POST', '/v1/chat/completions', None)
    assert request.headers['authorization'] == 'Bearer test-key'
    body = request.json()
    assert body['model'] == 'gpt-4o'
    assert body['messages'][-1] == {'role': 'user', 'content': 'What is 1 + 2?'}
    assert not request.stream


async def test_tool_call_round_sends_the_tool_result_back() -> None:
    steps = [ToolCall('add', {'a': 1, 'b': 2}), 'The sum is 3.']
    with OpenAICompatibleServer(steps) as server:
        result = await Agent(chat_model(server), tools=[add]).run('What is 1 + 2?')

    assert result.output == 'The sum is 3.'
    assert (server.calls.total, server.calls.succeeded) == (2, 2)
    messages = server.requests[1].json()['messages']
    [assistant] = [message for message in messages if message['role'] == 'assistant']
    assert assistant['tool_calls'][0]['function'] == {'name': 'add', 'arguments': '{"a":1,"b":2}'}
    [tool] = [message for message in messages if message['role'] == 'tool']
    assert (tool['tool_call_id'], tool['content']) == ('call_1_0', '3')


async def test_streams_text_in_chunks_with_usage() -> None:
    text = 'A streamed answer in several words.'
    with OpenAICompatibleServer([text]) as server:
        async with Agent(chat_model(server)).run_stream('Hi there') as result:
            chunks = [chunk async for chunk in result.stream_text(delta=True, debounce_by=None)]
            usage = result.usage

    assert len(chunks) > 1
    assert ''.join(chunks) == text
    assert (usage.input_tokens, usage.output_tokens) == (2, 6)
    [request] = server.requests
    assert request.stream
    assert request.json()['stream_options'] == {'include_usage': True}
    assert server.calls.succeeded == 1


async def test_streams_a_tool_call_round() -> None:
    with OpenAICompatibleServer([[ToolCall('add', {'a': 2, 'b': 5}, tool_call_id='call-7')], 'Seven.']) as server:
        async with Agent(chat_model(server), tools=[add]).run_stream('2 + 5?') as result:
            output = await result.get_output()

    assert output == 'Seven.'
    assert all(request.stream for request in server.requests)
    [tool] = [message for message in server.requests[1].json()['messages'] if message['role'] == 'tool']
    assert (tool['tool_call_id'], tool['content']) == ('call-7', '7')


@pytest.mark.parametrize(
    ('fault', 'status'),
    [(FaultKind.RATE_LIMIT, 429), (FaultKind.SERVER_ERROR, 500), (FaultKind.BAD_REQUEST, 400)],
)
async def test_error_faults_reach_the_model_as_http_errors(fault: FaultKind, status: int) -> None:
    server = OpenAICompatibleServer(['unused'], faults=FaultPlan(at_calls={1: fault}))
    with server, pytest.raises(ModelHTTPError) as raised:
        await Agent(chat_model(server, NO_SDK_RETRIES)).run('Hi')

    assert raised.value.status_code == status
    calls = server.calls
    assert (calls.total, calls.succeeded, calls.faulted, calls.fault_count(fault)) == (1, 0, 1, 1)
    assert server.requests[0].fault is fault


async def test_timeout_fault_holds_the_request_past_the_client_timeout() -> None:
    faults = FaultPlan(at_calls={1: FaultKind.TIMEOUT})
    with OpenAICompatibleServer(['unused'], faults=faults) as server:
        settings = ModelSettings(max_retries=0, timeout=0.2)
        with pytest.raises(ModelAPIError, match=r'(?i)timed out|timeout'):
            await Agent(chat_model(server, settings)).run('Hi')

    assert (server.calls.total, server.calls.fault_count(FaultKind.TIMEOUT), server.calls.succeeded) == (1, 1, 0)


async def test_disconnect_fault_closes_the_connection_without_a_response() -> None:
    server = OpenAICompatibleServer(['unused'], faults=FaultPlan(at_calls={1: FaultKind.DISCONNECT}))
    with server, pytest.raises(ModelAPIError, match=r'(?i)connection'):
        await Agent(chat_model(server, NO_SDK_RETRIES)).run('Hi')

    assert (server.calls.total, server.calls.fault_count(FaultKind.DISCONNECT), server.calls.succeeded) == (1, 1, 0)


async def test_sdk_retries_get_past_faults_which_use_up_no_scripted_answer() -> None:
    faults = FaultPlan(at_calls={1: FaultKind.RATE_LIMIT, 2: FaultKind.DISCONNECT})
    with OpenAICompatibleServer(['first answer', 'second answer'], faults=faults) as server:
        result = await Agent(chat_model(server)).run('Hi')  # the OpenAI client retries twice by default

    assert result.output == 'first answer'
    calls = server.calls
    assert (calls.total, calls.succeeded, calls.faulted) == (3, 1, 2)
    assert [request.fault for request in server.requests] == [FaultKind.RATE_LIMIT, FaultKind.DISCONNECT, None]


async def test_bad_request_is_not_retried_by_the_sdk() -> None:
    server = OpenAICompatibleServer(['unused'], faults=FaultPlan(at_calls={1: FaultKind.BAD_REQUEST}))
    with server, pytest.raises(ModelHTTPError):
        await Agent(chat_model(server)).run('Hi')

    assert server.calls.total == 1


def fault_sequence(seed: int, calls: int = 40) -> list[FaultKind | None]:
    faults = FaultPlan(rate=0.5, kinds=[FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR], seed=seed)
    with OpenAICompatibleServer(faults=faults) as server:
        statuses = [post_json(completions_url(server), CHAT_BODY)[0] for _ in range(calls)]
        sequence = [request.fault for request in server.requests]
    expected_statuses = [{None: 200, FaultKind.RATE_LIMIT: 429, FaultKind.SERVER_ERROR: 500}[f] for f in sequence]
    assert statuses == expected_statuses
    assert server.calls.succeeded == sequence.count(None)
    return sequence


def test_rate_faults_follow_the_seed() -> None:
    first = fault_sequence(seed=1)

    assert fault_sequence(seed=1) == first
    assert fault_sequence(seed=2) != first
    # At rate 0.5 over 40 calls, seed 1 draws both kinds and some successes.
    assert {FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, None} <= set(first)


def test_rate_one_fails_every_call_and_rate_zero_none() -> None:
    with OpenAICompatibleServer(faults=FaultPlan(rate=1.0, kinds=[FaultKind.SERVER_ERROR])) as server:
        statuses = {post_json(completions_url(server), CHAT_BODY)[0] for _ in range(5)}
    assert statuses == {500}
    assert server.calls.fault_count(FaultKind.SERVER_ERROR) == 5

    with OpenAICompatibleServer(faults=FaultPlan(rate=0.0)) as server:
        statuses = {post_json(completions_url(server), CHAT_BODY)[0] for _ in range(5)}
    assert statuses == {200}


async def test_rule_picks_faults_by_request() -> None:
    def fail_streams(request: RecordedRequest) -> FaultKind | None:
        return FaultKind.SERVER_ERROR if request.stream else None

    with OpenAICompatibleServer(['plain', 'streamed'], faults=FaultPlan(rule=fail_streams)) as server:
        agent = Agent(chat_model(server, NO_SDK_RETRIES))
        result = await agent.run('Hi')
        with pytest.raises(ModelHTTPError):
            async with agent.run_stream('Hi') as streamed:
                await streamed.get_output()

    assert result.output == 'plain'
    assert [request.fault for request in server.requests] == [None, FaultKind.SERVER_ERROR]


def test_at_calls_overrides_rate() -> None:
    faults = FaultPlan(at_calls={2: FaultKind.BAD_REQUEST}, rate=1.0, kinds=[FaultKind.SERVER_ERROR])
    with OpenAICompatibleServer(faults=faults) as server:
        statuses = [post_json(completions_url(server), CHAT_BODY)[0] for _ in range(3)]

    assert statuses == [500, 400, 500]
    assert dict(server.calls.faults) == {FaultKind.SERVER_ERROR: 2, FaultKind.BAD_REQUEST: 1}


def test_rate_limit_and_server_error_answers_carry_retry_after_ms() -> None:
    faults = FaultPlan(at_calls={1: FaultKind.RATE_LIMIT}, retry_after_ms=250)
    with OpenAICompatibleServer(faults=faults) as server:
        request = urllib.request.Request(completions_url(server), data=json.dumps(CHAT_BODY).encode(), method='POST')
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=10)

    assert raised.value.code == 429
    assert raised.value.headers['retry-after-ms'] == '250'
    assert json.loads(raised.value.read())['error']['code'] == 'rate_limit_exceeded'


def test_unknown_paths_bad_bodies_and_an_exhausted_script_are_rejected() -> None:
    with OpenAICompatibleServer(['only answer']) as server:
        assert post_json(f'{server.base_url}/embeddings', {})[0] == 404
        assert post_json(completions_url(server), ['not', 'an', 'object'])[0] == 400
        assert post_json(completions_url(server), CHAT_BODY)[0] == 200
        status, body = post_json(completions_url(server), CHAT_BODY)

    assert status == 500
    assert ScriptExhaustedError.__name__ in str(body)
    assert (server.calls.total, server.calls.succeeded, server.calls.rejected) == (4, 1, 3)


def test_answers_can_be_a_function_of_the_request() -> None:
    with OpenAICompatibleServer(lambda request: f'model was {request.json()["model"]}') as server:
        status, body = post_json(completions_url(server), CHAT_BODY)

    assert status == 200
    assert body['choices'] == [
        {
            'index': 0,
            'message': {'role': 'assistant', 'content': 'model was gpt-4o', 'refusal': None},
            'finish_reason': 'stop',
            'logprobs': None,
        }
    ]


def test_error_steps_are_refused() -> None:
    with pytest.raises(ValueError, match='faults'):
        OpenAICompatibleServer([Step(error=RuntimeError('no'))])


def test_fault_plan_validates_its_numbers() -> None:
    with pytest.raises(ValueError, match='rate'):
        FaultPlan(rate=1.5)
    with pytest.raises(ValueError, match='from 1'):
        FaultPlan(at_calls={0: FaultKind.TIMEOUT})


async def test_a_held_step_is_counted_on_arrival_and_succeeds_once_released() -> None:
    reached = threading.Event()
    release = threading.Event()
    with OpenAICompatibleServer([Step(text='late', before=reached.set, wait_for=release)]) as server:
        run = asyncio.ensure_future(Agent(chat_model(server)).run('Hi'))
        assert await anyio.to_thread.run_sync(reached.wait, 10)

        assert (server.calls.total, server.calls.succeeded) == (1, 0)
        assert not run.done()
        release.set()
        result = await run

    assert result.output == 'late'
    assert server.calls.succeeded == 1


def test_base_url_needs_a_running_server() -> None:
    server = OpenAICompatibleServer()
    with pytest.raises(RuntimeError, match='not running'):
        _ = server.base_url
    with server:
        assert server.base_url.startswith('http://127.0.0.1:')
    with pytest.raises(RuntimeError, match='not running'):
        _ = server.base_url
