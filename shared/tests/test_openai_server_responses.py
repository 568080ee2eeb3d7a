"""`OpenAICompatibleServer` serving the Responses API (`/v1/responses`), as `Agent('openai:gpt-6.1-sol')` calls it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterable
from typing import Any

import pytest
from durable_core.testing import (
    FaultKind,
    FaultPlan,
    OpenAICompatibleServer,
    RecordedRequest,
    ScriptExhaustedError,
    Step,
    StepLike,
    ToolCall,
)
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter
from pydantic_ai import Agent, RunContext
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import (
    AgentStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
)
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ModelSettings

NO_SDK_RETRIES = ModelSettings(max_retries=0)
RESPONSES_BODY = {'model': 'gpt-6.1-sol', 'input': [{'role': 'user', 'content': 'Hi'}]}


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def provider(server: OpenAICompatibleServer) -> OpenAIProvider:
    return OpenAIProvider(base_url=server.base_url, api_key='test-key')


def responses_agent(server: OpenAICompatibleServer, **kwargs: Any) -> Agent[None, str]:
    """`Agent('openai:gpt-6.1-sol')`, as the README writes it, pointed at the server."""
    return Agent(OpenAIResponsesModel('gpt-6.1-sol', provider=provider(server)), **kwargs)


def post(url: str, body: object) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={'Content-Type': 'application/json'}, method='POST'
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def sse_events(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The `(event, data)` pairs of a server-sent event stream."""
    events: list[tuple[str, dict[str, Any]]] = []
    for block in data.decode().strip().split('\n\n'):
        fields = dict(line.split(': ', 1) for line in block.splitlines())
        events.append((fields['event'], json.loads(fields['data'])))
    return events


async def test_the_model_string_uses_the_responses_api_through_openai_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with OpenAICompatibleServer(['Hello there.']) as server:
        monkeypatch.setenv('OPENAI_BASE_URL', server.base_url)
        monkeypatch.setenv('OPENAI_API_KEY', 'test-key')
        result = await Agent('openai:gpt-6.1-sol', instructions='Be brief.').run('What is 1 + 2?')

    assert result.output == 'Hello there.'
    # Words stand in for tokens: 'Be brief.' and 'What is 1 + 2?' in, 'Hello there.' out.
    assert (result.usage.input_tokens, result.usage.output_tokens) == (7, 2)
    assert (server.calls.total, server.calls.succeeded) == (1, 1)
    [request] = server.requests
    assert (request.path, request.api, request.stream, request.fault) == ('/v1/responses', 'responses', False, None)
    assert request.headers['authorization'] == 'Bearer test-key'
    body = request.json()
    assert (body['model'], body['instructions']) == ('gpt-6.1-sol', 'Be brief.')
    assert body['input'] == [{'role': 'user', 'content': 'What is 1 + 2?'}]
    assert request.conversation() == [
        {'role': 'system', 'content': 'Be brief.'},
        {'role': 'user', 'content': 'What is 1 + 2?'},
    ]
    assert request.last_message() == {'role': 'user', 'content': 'What is 1 + 2?'}


async def test_tool_call_round_sends_a_function_call_output_back() -> None:
    with OpenAICompatibleServer([ToolCall('add', {'a': 1, 'b': 2}), 'The sum is 3.']) as server:
        result = await responses_agent(server, tools=[add]).run('What is 1 + 2?')

    assert result.output == 'The sum is 3.'
    [call] = [part for message in result.all_messages() for part in message.parts if isinstance(part, ToolCallPart)]
    assert (call.tool_name, call.args_as_dict(), call.tool_call_id) == ('add', {'a': 1, 'b': 2}, 'call_1_0')
    assert (server.calls.total, server.calls.succeeded) == (2, 2)
    first, second = server.requests
    assert first.tool_names() == ['add']
    assert first.tools()[0]['parameters']['required'] == ['a', 'b']
    items = second.json()['input']
    [function_call] = [item for item in items if item.get('type') == 'function_call']
    assert (function_call['call_id'], function_call['name']) == ('call_1_0', 'add')
    assert json.loads(function_call['arguments']) == {'a': 1, 'b': 2}
    [output] = [item for item in items if item.get('type') == 'function_call_output']
    assert (output['call_id'], output['output']) == ('call_1_0', '3')
    assert second.conversation()[1:] == [
        {
            'role': 'assistant',
            'content': None,
            'tool_calls': [{'id': 'call_1_0', 'name': 'add', 'arguments': function_call['arguments']}],
        },
        {'role': 'tool', 'content': '3', 'tool_call_id': 'call_1_0'},
    ]


async def test_text_and_tool_calls_in_one_answer() -> None:
    calls = [ToolCall('add', {'a': 1, 'b': 2}, tool_call_id='first'), ToolCall('add', {'a': 3, 'b': 4})]
    with OpenAICompatibleServer([Step(text='Adding both.', tool_calls=calls), 'Done.']) as server:
        result = await responses_agent(server, tools=[add]).run('Add 1 + 2 and 3 + 4')

    assert result.output == 'Done.'
    [assistant] = [entry for entry in server.requests[1].conversation() if entry['role'] == 'assistant']
    assert assistant['content'] == 'Adding both.'
    assert [call['id'] for call in assistant['tool_calls']] == ['first', 'call_1_1']
    tools = [entry for entry in server.requests[1].conversation() if entry['role'] == 'tool']
    assert [(tool['tool_call_id'], tool['content']) for tool in tools] == [('first', '3'), ('call_1_1', '7')]


async def test_streams_text_in_deltas_with_usage() -> None:
    text = 'A streamed answer in several words.'
    with OpenAICompatibleServer([text]) as server:
        async with responses_agent(server).run_stream('Hi there') as result:
            chunks = [chunk async for chunk in result.stream_text(delta=True, debounce_by=None)]
            usage = result.usage

    assert len(chunks) > 1
    assert ''.join(chunks) == text
    assert (usage.input_tokens, usage.output_tokens) == (2, 6)
    [request] = server.requests
    assert request.stream
    assert server.calls.succeeded == 1


async def test_streams_a_tool_call_round_through_the_event_stream_handler() -> None:
    events: list[AgentStreamEvent] = []

    async def collect(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
        events.extend([event async for event in stream])

    steps = [[ToolCall('add', {'a': 2, 'b': 5}, tool_call_id='call-7')], 'Seven.']
    with OpenAICompatibleServer(steps) as server:
        result = await responses_agent(server, tools=[add]).run('2 + 5?', event_stream_handler=collect)

    assert result.output == 'Seven.'
    assert all(request.stream and request.api == 'responses' for request in server.requests)
    starts = [event.part for event in events if isinstance(event, PartStartEvent)]
    deltas = [event.delta for event in events if isinstance(event, PartDeltaEvent)]
    call, text = starts
    assert isinstance(call, ToolCallPart)
    assert isinstance(text, TextPart)
    assert (call.tool_name, call.tool_call_id) == ('add', 'call-7')
    # The arguments arrive in two deltas after the part starts, as from the real API.
    arg_deltas = [str(delta.args_delta) for delta in deltas if isinstance(delta, ToolCallPartDelta)]
    assert len(arg_deltas) == 2
    assert json.loads(str(call.args or '') + ''.join(arg_deltas)) == {'a': 2, 'b': 5}
    text_deltas = [delta.content_delta for delta in deltas if isinstance(delta, TextPartDelta)]
    assert text.content + ''.join(text_deltas) == 'Seven.'
    [tool] = [entry for entry in server.requests[1].conversation() if entry['role'] == 'tool']
    assert (tool['tool_call_id'], tool['content']) == ('call-7', '7')


async def test_streamed_tool_call_round_with_run_stream() -> None:
    with OpenAICompatibleServer([[ToolCall('add', {'a': 2, 'b': 5})], 'Seven.']) as server:
        async with responses_agent(server, tools=[add]).run_stream('2 + 5?') as result:
            output = await result.get_output()

    assert output == 'Seven.'
    assert [request.stream for request in server.requests] == [True, True]


@pytest.mark.parametrize(
    ('fault', 'status'),
    [(FaultKind.RATE_LIMIT, 429), (FaultKind.SERVER_ERROR, 500), (FaultKind.BAD_REQUEST, 400)],
)
async def test_error_faults_on_the_responses_endpoint_reach_the_model(fault: FaultKind, status: int) -> None:
    server = OpenAICompatibleServer(['unused'], faults=FaultPlan(at_calls={1: fault}))
    with server, pytest.raises(ModelHTTPError) as raised:
        await responses_agent(server).run('Hi', model_settings=NO_SDK_RETRIES)

    assert raised.value.status_code == status
    assert (server.calls.total, server.calls.succeeded, server.calls.fault_count(fault)) == (1, 0, 1)
    assert server.requests[0].fault is fault


async def test_sdk_retries_get_past_faults_on_the_responses_endpoint() -> None:
    faults = FaultPlan(at_calls={1: FaultKind.SERVER_ERROR, 2: FaultKind.DISCONNECT})
    with OpenAICompatibleServer(['first answer', 'second answer'], faults=faults) as server:
        result = await responses_agent(server).run('Hi')

    assert result.output == 'first answer'
    assert [request.fault for request in server.requests] == [FaultKind.SERVER_ERROR, FaultKind.DISCONNECT, None]
    assert (server.calls.total, server.calls.succeeded, server.calls.faulted) == (3, 1, 2)


async def test_a_fault_rule_can_pick_one_api() -> None:
    def fail_responses(request: RecordedRequest) -> FaultKind | None:
        return FaultKind.SERVER_ERROR if request.api == 'responses' else None

    with OpenAICompatibleServer(['from chat', 'unused'], faults=FaultPlan(rule=fail_responses)) as server:
        chat = await Agent(OpenAIChatModel('gpt-4o', provider=provider(server))).run('Hi')
        with pytest.raises(ModelHTTPError):
            await responses_agent(server).run('Hi', model_settings=NO_SDK_RETRIES)

    assert chat.output == 'from chat'
    assert [(request.api, request.fault) for request in server.requests] == [
        ('chat', None),
        ('responses', FaultKind.SERVER_ERROR),
    ]


def answer_adding(request: RecordedRequest) -> StepLike:
    """One answer function for both APIs: call `add` once, then report what it returned."""
    last = request.last_message()
    assert last is not None
    if last['role'] == 'tool':
        return f'The sum is {last["content"]}.'
    assert request.tool_names() == ['add']
    return ToolCall('add', {'a': 20, 'b': 22}, tool_call_id='sum')  # the same ID on both APIs


async def test_one_answer_function_serves_both_apis_and_sees_the_same_conversation() -> None:
    with OpenAICompatibleServer(answer_adding) as server:
        chat_model = OpenAIChatModel('gpt-4o', provider=provider(server))
        chat = await Agent(chat_model, tools=[add], instructions='Use the tool.').run('20 + 22?')
        responses = await responses_agent(server, tools=[add], instructions='Use the tool.').run('20 + 22?')

    assert chat.output == responses.output == 'The sum is 42.'
    chat_first, chat_second, responses_first, responses_second = server.requests
    assert [request.api for request in server.requests] == ['chat', 'chat', 'responses', 'responses']
    assert chat_first.conversation() == responses_first.conversation()
    assert chat_second.conversation() == responses_second.conversation()
    assert chat_first.tools() == responses_first.tools()
    assert server.calls.succeeded == 4


def test_the_plain_answer_parses_as_an_sdk_response() -> None:
    steps = [[ToolCall('add', {'a': 1, 'b': 2})], 'Hi!']
    with OpenAICompatibleServer(steps) as server:
        answers = [post(f'{server.base_url}/responses', RESPONSES_BODY) for _ in steps]

    assert [status for status, _ in answers] == [200, 200]
    tool_call, text = (Response.model_validate_json(body) for _, body in answers)
    [item] = tool_call.output
    assert item.type == 'function_call'
    assert (item.call_id, item.name, item.arguments) == ('call_1_0', 'add', '{"a": 1, "b": 2}')
    assert text.output_text == 'Hi!'
    assert (text.id, text.status, text.model) == ('resp_2', 'completed', 'gpt-6.1-sol')
    assert text.usage is not None
    assert (text.usage.input_tokens, text.usage.output_tokens, text.usage.total_tokens) == (1, 1, 2)


def test_the_stream_parses_as_sdk_events_in_order() -> None:
    step = Step(text='Two words', tool_calls=[ToolCall('add', {'a': 1, 'b': 2}, tool_call_id='c1')])
    with OpenAICompatibleServer([step]) as server:
        status, data = post(f'{server.base_url}/responses', {**RESPONSES_BODY, 'stream': True})

    assert status == 200
    pairs = sse_events(data)
    adapter: TypeAdapter[ResponseStreamEvent] = TypeAdapter(ResponseStreamEvent)
    events = [adapter.validate_python(payload) for _, payload in pairs]
    assert [name for name, _ in pairs] == [event.type for event in events]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert [event.type for event in events] == [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
    ]
    completed = events[-1]
    assert completed.type == 'response.completed'
    assert completed.response.output_text == 'Two words'
    assert [item.type for item in completed.response.output] == ['message', 'function_call']
    assert completed.response.usage is not None


def test_conversation_reads_either_api_shape() -> None:
    def recorded(path: str, body: object) -> RecordedRequest:
        return RecordedRequest(1, 'POST', path, {}, json.dumps(body).encode(), fault=None)

    responses = recorded(
        '/v1/responses',
        {
            'input': [
                {'role': 'developer', 'content': 'Rules.'},
                {'type': 'message', 'role': 'user', 'content': [{'type': 'input_text', 'text': 'Hi'}]},
                {'type': 'reasoning', 'id': 'rs_1', 'summary': ['ignored']},
                {'type': 'message', 'role': 'assistant', 'content': [{'type': 'output_text', 'text': 'Let me.'}]},
                {'type': 'function_call', 'call_id': 'c1', 'name': 'add', 'arguments': '{}'},
                {'type': 'function_call_output', 'call_id': 'c1', 'output': '3'},
            ],
            'tools': [{'type': 'function', 'name': 'add'}, {'type': 'web_search'}],
        },
    )
    chat = recorded(
        '/v1/chat/completions',
        {
            'messages': [
                {'role': 'developer', 'content': 'Rules.'},
                {'role': 'user', 'content': [{'type': 'text', 'text': 'Hi'}]},
                {
                    'role': 'assistant',
                    'content': 'Let me.',
                    'tool_calls': [{'id': 'c1', 'type': 'function', 'function': {'name': 'add', 'arguments': '{}'}}],
                },
                {'role': 'tool', 'tool_call_id': 'c1', 'content': '3'},
            ],
            'tools': [{'type': 'function', 'function': {'name': 'add'}}],
        },
    )

    expected = [
        {'role': 'system', 'content': 'Rules.'},
        {'role': 'user', 'content': 'Hi'},
        {'role': 'assistant', 'content': 'Let me.', 'tool_calls': [{'id': 'c1', 'name': 'add', 'arguments': '{}'}]},
        {'role': 'tool', 'content': '3', 'tool_call_id': 'c1'},
    ]
    assert responses.conversation() == chat.conversation() == expected
    assert responses.tools() == chat.tools() == [{'name': 'add', 'description': None, 'parameters': None}]
    assert recorded('/v1/responses', {'input': 'Just text'}).conversation() == [
        {'role': 'user', 'content': 'Just text'}
    ]
    assert recorded('/v1/embeddings', {'input': ['a']}).api is None
    not_json = recorded('/v1/responses', None)
    assert (not_json.conversation(), not_json.last_message(), not_json.tool_names()) == ([], None, [])


def test_both_endpoints_share_the_script_and_the_counters() -> None:
    chat_body = {'model': 'gpt-4o', 'messages': [{'role': 'user', 'content': 'Hi'}]}
    with OpenAICompatibleServer(['one', 'two']) as server:
        chat_status, chat_answer = post(f'{server.base_url}/chat/completions', chat_body)
        responses_status, responses_answer = post(f'{server.base_url}/responses', RESPONSES_BODY)
        exhausted_status, exhausted = post(f'{server.base_url}/responses', RESPONSES_BODY)
        not_json_status, _ = post(f'{server.base_url}/responses', ['not', 'an', 'object'])

    assert (chat_status, responses_status, exhausted_status, not_json_status) == (200, 200, 500, 400)
    assert json.loads(chat_answer)['choices'][0]['message']['content'] == 'one'
    assert Response.model_validate_json(responses_answer).output_text == 'two'
    assert ScriptExhaustedError.__name__ in exhausted.decode()
    assert (server.calls.total, server.calls.succeeded, server.calls.rejected) == (4, 2, 2)
