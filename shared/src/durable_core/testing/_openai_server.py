"""A local OpenAI-compatible server, Chat Completions and Responses APIs, that answers a script and injects faults.

Standard library only: it runs `http.server.ThreadingHTTPServer` in a background thread on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self, cast

from ._scripted import ScriptExhaustedError, Step, StepLike, as_step, text_chunks

__all__ = ['CallCounts', 'FaultKind', 'FaultPlan', 'OpenAICompatibleServer', 'RecordedRequest']


class FaultKind(StrEnum):
    """A failure the server can inject instead of answering."""

    RATE_LIMIT = 'rate_limit'
    """HTTP 429 with an OpenAI rate-limit error body."""
    SERVER_ERROR = 'server_error'
    """HTTP 500 with an OpenAI server error body."""
    BAD_REQUEST = 'bad_request'
    """HTTP 400 with an OpenAI invalid-request error body, which clients don't retry."""
    TIMEOUT = 'timeout'
    """No answer for `FaultPlan.hang_seconds` (longer than the client's timeout), then the connection is closed."""
    DISCONNECT = 'disconnect'
    """The connection is closed at once, without a response."""


_ERROR_STATUS: Mapping[FaultKind, tuple[int, str]] = {
    FaultKind.RATE_LIMIT: (429, 'rate_limit_exceeded'),
    FaultKind.SERVER_ERROR: (500, 'server_error'),
    FaultKind.BAD_REQUEST: (400, 'invalid_request_error'),
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, as it arrived.

    Args:
        number: Its place in the order of arrival, from 1.
        method: The HTTP method.
        path: The request path, with any query string.
        headers: The headers, with lower-case names; repeated headers joined with `', '`.
        body: The raw body.
        fault: The fault injected instead of an answer, if any.
    """

    number: int
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    fault: FaultKind | None

    def json(self) -> Any:
        """The body parsed as JSON, or `None` when it is empty or not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def stream(self) -> bool:
        """Whether the request asked for a streamed (SSE) answer."""
        body = self.json()
        return isinstance(body, dict) and cast(dict[str, Any], body).get('stream') is True

    @property
    def api(self) -> Literal['chat', 'responses'] | None:
        """The API the request's path is for: `'chat'` (`/chat/completions`), `'responses'` (`/responses`) or `None`."""
        path = self.path.split('?')[0].rstrip('/')
        if path.endswith('/chat/completions'):
            return 'chat'
        if path.endswith('/responses'):
            return 'responses'
        return None

    def conversation(self) -> list[dict[str, Any]]:
        """The conversation the request sends, in one shape for both APIs, so an answer function works with either.

        Each entry has a `role` and a `content`: the text, with text parts joined by newlines, or `None`. Roles are
        `'system'` (also for `'developer'` messages and for the Responses API's `instructions`, which come first),
        `'user'`, `'assistant'` and `'tool'`. An assistant entry that calls tools has `tool_calls`, a list of
        `{'id', 'name', 'arguments'}` dicts with the arguments as a JSON string; a Responses `function_call` item
        joins the assistant entry just before it. A tool entry (a chat `tool` message or a Responses
        `function_call_output` item) has the `tool_call_id` it answers. Other Responses items, such as reasoning,
        are left out. Empty when the body is not a chat or Responses request.

        Example:
            ```python
            import asyncio

            from durable_core.testing import OpenAICompatibleServer, RecordedRequest, StepLike, ToolCall
            from pydantic_ai import Agent
            from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
            from pydantic_ai.providers.openai import OpenAIProvider


            def answer(request: RecordedRequest) -> StepLike:
                # Call `add`, then answer with what it returned: one function for both APIs.
                last = request.conversation()[-1]
                if last['role'] == 'tool':
                    return f'The tool said {last["content"]}.'
                return ToolCall('add', {'a': 1, 'b': 2})


            def add(a: int, b: int) -> int:
                return a + b


            async def main() -> None:
                with OpenAICompatibleServer(answer) as server:
                    provider = OpenAIProvider(base_url=server.base_url, api_key='test')
                    for model_class in [OpenAIChatModel, OpenAIResponsesModel]:  # Chat Completions, then Responses
                        model = model_class('gpt-4o', provider=provider)
                        result = await Agent(model, tools=[add]).run('What is 1 + 2?')
                        print(f'{model_class.__name__}: {result.output}')  # The tool said 3.
                    for entry in server.requests[-1].conversation():  # user, assistant (calling add), tool
                        print(entry)


            if __name__ == '__main__':
                asyncio.run(main())
            ```
        """
        body = self.json()
        if not isinstance(body, dict):
            return []
        payload = cast(dict[str, Any], body)
        if 'messages' in payload:
            return _chat_conversation(payload['messages'])
        if 'input' in payload or 'instructions' in payload:
            return _responses_conversation(payload)
        return []

    def last_message(self) -> dict[str, Any] | None:
        """The last entry of `conversation()`, or `None` when it is empty."""
        conversation = self.conversation()
        return conversation[-1] if conversation else None

    def tools(self) -> list[dict[str, Any]]:
        """The function tools the request offers, as `{'name', 'description', 'parameters'}` dicts, from either API.

        Tools other than functions, such as the Responses API's built-in tools, are left out.
        """
        body = self.json()
        tools = cast(dict[str, Any], body).get('tools') if isinstance(body, dict) else None
        if not isinstance(tools, list):
            return []
        found: list[dict[str, Any]] = []
        for tool in cast(list[Any], tools):
            if not isinstance(tool, dict) or cast(dict[str, Any], tool).get('type') != 'function':
                continue
            spec = cast(dict[str, Any], tool)
            function = spec.get('function')  # chat nests the function; the Responses API doesn't
            if isinstance(function, dict):
                spec = cast(dict[str, Any], function)
            if isinstance(name := spec.get('name'), str):
                found.append(
                    {'name': name, 'description': spec.get('description'), 'parameters': spec.get('parameters')}
                )
        return found

    def tool_names(self) -> list[str]:
        """The names of the function tools the request offers, in order."""
        return [tool['name'] for tool in self.tools()]


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    """Which requests fail, and how.

    A request's fault is, in this order of precedence: its entry in `at_calls`, what `rule` returns for it, or,
    with probability `rate`, one of `kinds`. The random draws come from `random.Random(seed)`, two per request
    whatever the other rules decide, so the same seed fails the same request numbers every time.

    Example:
        ```python
        import contextlib

        from durable_core.testing import FaultKind, FaultPlan, OpenAICompatibleServer
        from openai import OpenAI, OpenAIError


        def faults_of(plan: FaultPlan, requests: int = 10) -> dict[int, str]:
            # Send `requests` requests one by one, without retries; return the faults they got, by request number.
            with OpenAICompatibleServer(faults=plan) as server:
                client = OpenAI(base_url=server.base_url, api_key='test', max_retries=0)
                for _ in range(requests):
                    with contextlib.suppress(OpenAIError):  # an HTTP 429 or 500, or a closed connection
                        client.chat.completions.create(model='gpt-4o', messages=[{'role': 'user', 'content': 'Hi'}])
                return {request.number: request.fault.value for request in server.requests if request.fault is not None}


        if __name__ == '__main__':
            print(faults_of(FaultPlan(at_calls={1: FaultKind.SERVER_ERROR})))  # only the first request fails
            flaky = FaultPlan(rate=0.3, kinds=[FaultKind.RATE_LIMIT, FaultKind.DISCONNECT], seed=1)
            print(faults_of(flaky))  # {1: 'rate_limit', 2: 'disconnect', 5: 'rate_limit'}, on every run
            assert faults_of(flaky) == faults_of(flaky)  # the seed fixes which requests fail
        ```

    Args:
        at_calls: Faults by request number, counted from 1 in order of arrival.
        rule: A function of the request that picks its fault, or `None` for none.
        rate: The probability, from 0 to 1, that a request nothing else picked a fault for fails.
        kinds: The faults that `rate` picks from, with equal chances.
        seed: The seed of the random draws behind `rate`.
        hang_seconds: How long a `TIMEOUT` fault holds the request; the server's stop ends it early.
        retry_after_ms: The `retry-after-ms` header sent with 429 and 500 answers, so clients that retry wait
            this long rather than their own backoff; `None` sends none.
    """

    at_calls: Mapping[int, FaultKind] = field(default_factory=dict[int, FaultKind])
    rule: Callable[[RecordedRequest], FaultKind | None] | None = None
    rate: float = 0.0
    kinds: Sequence[FaultKind] = (FaultKind.SERVER_ERROR,)
    seed: int = 0
    hang_seconds: float = 60.0
    retry_after_ms: int | None = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f'FaultPlan.rate must be between 0 and 1, got {self.rate}')
        if self.rate > 0 and not self.kinds:
            raise ValueError('FaultPlan.kinds must name at least one fault when rate is above 0')
        if any(number < 1 for number in self.at_calls):
            raise ValueError('FaultPlan.at_calls counts requests from 1')
        if self.hang_seconds <= 0:
            raise ValueError(f'FaultPlan.hang_seconds must be positive, got {self.hang_seconds}')


@dataclass(frozen=True)
class CallCounts:
    """How many requests the server received, by outcome. A snapshot: read `server.calls` again for new ones.

    Args:
        total: Every request received, whatever became of it.
        succeeded: Requests answered in full with a scripted completion.
        faults: Requests that got an injected fault, by kind.
        rejected: Requests the server refused itself: unknown path, a body that isn't JSON, or no scripted
            answer left.
    """

    total: int
    succeeded: int
    faults: Mapping[FaultKind, int]
    rejected: int

    @property
    def faulted(self) -> int:
        """Requests that got an injected fault, of any kind."""
        return sum(self.faults.values())

    def fault_count(self, kind: FaultKind) -> int:
        """Requests that got the injected fault `kind`."""
        return self.faults.get(kind, 0)


Responses = Sequence[StepLike] | Callable[[RecordedRequest], StepLike]
"""The scripted answers: a list used in order, or a function of each request."""


class OpenAICompatibleServer:
    """OpenAI-compatible `/v1/chat/completions` and `/v1/responses` endpoints on 127.0.0.1, for tests.

    It answers with scripted completions, plain or streamed as server-sent events, with tool calls and token
    usage; injects faults by a `FaultPlan`; and records every request with its headers and body. Faults don't
    use up scripted answers: a retried request gets the answer the failed one would have had. Both endpoints
    share the script, the faults, the counters and the recorded requests; `RecordedRequest.conversation()` and
    `tool_names()` read either API's request, so an answer function can serve both. `OpenAIChatModel` uses the
    Chat Completions API; `OpenAIResponsesModel`, and so the model string `'openai:gpt-5'`, the Responses API.

    Example:
        ```python
        import asyncio

        from durable_core.testing import FaultKind, FaultPlan, OpenAICompatibleServer
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider


        async def main() -> None:
            # The first request gets an HTTP 500; the OpenAI SDK retries it, and the retry gets the scripted answer.
            with OpenAICompatibleServer(['Hello!'], faults=FaultPlan(at_calls={1: FaultKind.SERVER_ERROR})) as server:
                model = OpenAIChatModel('gpt-4o', provider=OpenAIProvider(base_url=server.base_url, api_key='test'))
                result = await Agent(model).run('Say hello')
                print(result.output)  # Hello!
                print(server.calls)  # total=2, succeeded=1, one SERVER_ERROR fault
                assert server.calls.fault_count(FaultKind.SERVER_ERROR) == 1
                last = server.requests[-1]
                print(last.method, last.path, last.conversation())  # POST /v1/chat/completions [{'role': 'user', ...}]


        if __name__ == '__main__':
            asyncio.run(main())
        ```

    Args:
        responses: The answers, as a list used in order or a function of each request. `None` answers every
            request with the text `'ok'`. A `Step.error` is not supported: use `faults`. A `Step`'s `before` and
            `wait_for` run in the request's server thread.
        faults: Which requests fail, and how; `None` for none.
        host: The address to listen on.
    """

    def __init__(
        self,
        responses: Responses | None = None,
        *,
        faults: FaultPlan | None = None,
        host: str = '127.0.0.1',
    ) -> None:
        if responses is None or callable(responses):
            self._script: tuple[Step, ...] | None = None
            self._answer_for: Callable[[RecordedRequest], StepLike] = responses or _answer_ok
        else:
            self._script = tuple(as_step(response) for response in responses)
            self._answer_for = self._next_scripted
            if any(step.error is not None for step in self._script):
                raise ValueError('OpenAICompatibleServer answers no Step.error: inject failures with `faults`')
        self.faults = faults or FaultPlan()
        self._host = host
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._script_position = 0
        self._succeeded = 0
        self._rejected = 0
        self._faults: dict[FaultKind, int] = {}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind a free port and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError('OpenAICompatibleServer is already running')
        self._stopping.clear()
        self._httpd = _HTTPServer((self._host, 0), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={'poll_interval': 0.05},
            name='openai-compatible-server',
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, releasing requests held by a `TIMEOUT` fault or a `Step.wait_for`."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._httpd is None:
            raise RuntimeError('OpenAICompatibleServer is not running: use it as a context manager or call start()')
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """The URL to hand an OpenAI client or provider as its `base_url`."""
        return f'http://{self._host}:{self.port}/v1'

    @property
    def calls(self) -> CallCounts:
        """How many requests the server received so far, by outcome."""
        with self._lock:
            return CallCounts(
                total=len(self._requests),
                succeeded=self._succeeded,
                faults=dict(self._faults),
                rejected=self._rejected,
            )

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order of arrival."""
        with self._lock:
            return list(self._requests)

    def _admit(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> RecordedRequest:
        """Record a request that arrived, and decide its fault."""
        with self._lock:
            number = len(self._requests) + 1
            # Both draws on every request, so whether request N fails by `rate` depends on the seed and N alone.
            roll, random_kind = self._rng.random(), self._rng.choice(self.faults.kinds or [FaultKind.SERVER_ERROR])
            request = RecordedRequest(number, method, path, headers, body, fault=None)
            fault = self.faults.at_calls.get(number)
            if fault is None and self.faults.rule is not None:
                fault = self.faults.rule(request)
            if fault is None and roll < self.faults.rate:
                fault = random_kind
            if fault is not None:
                request = RecordedRequest(number, method, path, headers, body, fault=fault)
                self._faults[fault] = self._faults.get(fault, 0) + 1
            self._requests.append(request)
            return request

    def _next_scripted(self, request: RecordedRequest) -> StepLike:
        assert self._script is not None
        with self._lock:
            position = self._script_position
            if position >= len(self._script):
                raise ScriptExhaustedError(
                    f'OpenAICompatibleServer has {len(self._script)} scripted answers, so request {request.number} '
                    'has none'
                )
            self._script_position += 1
            return self._script[position]

    def _count_success(self) -> None:
        with self._lock:
            self._succeeded += 1

    def _count_rejected(self) -> None:
        with self._lock:
            self._rejected += 1


def _answer_ok(request: RecordedRequest) -> StepLike:
    return 'ok'


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a request held by a fault must not keep the test process alive

    def __init__(self, address: tuple[str, int], owner: OpenAICompatibleServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: every answer ends by closing the connection, which also ends a streamed one.
    protocol_version = 'HTTP/1.0'

    @property
    def _owner(self) -> OpenAICompatibleServer:
        return cast(_HTTPServer, self.server).owner

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read `server.requests` instead."""

    def do_GET(self) -> None:
        """Handle a GET request."""
        self._handle()

    def do_POST(self) -> None:
        """Handle a POST request."""
        self._handle()

    def _handle(self) -> None:
        owner = self._owner
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f'{headers[key]}, {value}' if key in headers else value
        request = owner._admit(self.command, self.path, headers, body)  # pyright: ignore[reportPrivateUsage]
        if request.fault is not None:
            self._inject(request.fault, owner.faults)
            return
        api = request.api
        if self.command != 'POST' or api is None:
            owner._count_rejected()  # pyright: ignore[reportPrivateUsage]
            self._send_error(404, 'invalid_request_error', f'No route for {self.command} {self.path}')
            return
        payload = request.json()
        if not isinstance(payload, dict):
            owner._count_rejected()  # pyright: ignore[reportPrivateUsage]
            self._send_error(400, 'invalid_request_error', 'The request body is not a JSON object')
            return
        try:
            step = as_step(owner._answer_for(request))  # pyright: ignore[reportPrivateUsage]
        except Exception as error:  # an exhausted script or a failing answer function: the test should see why
            owner._count_rejected()  # pyright: ignore[reportPrivateUsage]
            self._send_error(500, 'server_error', f'{type(error).__name__}: {error}')
            return
        if step.error is not None:
            owner._count_rejected()  # pyright: ignore[reportPrivateUsage]
            self._send_error(500, 'server_error', 'OpenAICompatibleServer answers no Step.error: use `faults`')
            return
        if not step.run_hooks_blocking(owner._stopping):  # pyright: ignore[reportPrivateUsage]
            self._drop_connection()
            return
        answer_type = _ChatAnswer if api == 'chat' else _ResponsesAnswer
        answer = answer_type(request, cast(dict[str, Any], payload), step)
        try:
            if request.stream:
                self._send_stream(answer)
            else:
                self._send_json(200, answer.body())
        except OSError:  # the client went away mid-answer: not a success
            return
        owner._count_success()  # pyright: ignore[reportPrivateUsage]

    def _inject(self, fault: FaultKind, plan: FaultPlan) -> None:
        if fault is FaultKind.TIMEOUT:
            self._owner._stopping.wait(plan.hang_seconds)  # pyright: ignore[reportPrivateUsage]
            self._drop_connection()
        elif fault is FaultKind.DISCONNECT:
            self._drop_connection()
        else:
            status, error_type = _ERROR_STATUS[fault]
            extra_headers: dict[str, str] = {}
            if plan.retry_after_ms is not None and fault is not FaultKind.BAD_REQUEST:
                extra_headers['retry-after-ms'] = str(plan.retry_after_ms)
            self._send_error(status, error_type, f'Injected fault: {fault.value}', extra_headers)

    def _drop_connection(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):  # already closed by the client
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_error(self, status: int, error_type: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        body = {'error': {'message': message, 'type': error_type, 'param': None, 'code': error_type}}
        self._send_json(status, body, headers)

    def _send_json(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_stream(self, answer: _Answer) -> None:
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Cache-Control', 'no-cache')
        self.end_headers()
        for event in answer.sse():
            self.wfile.write(event)
            self.wfile.flush()


class _Answer:
    """What answers one request with one step, whole or as server-sent events; one subclass per API."""

    def __init__(self, request: RecordedRequest, payload: dict[str, Any], step: Step) -> None:
        self.step = step
        self.number = request.number
        self.created = int(time.time())
        self.model = str(payload.get('model', 'scripted'))
        self.tool_call_ids = [
            call.tool_call_id or f'call_{request.number}_{index}' for index, call in enumerate(step.tool_calls)
        ]
        # Words stand in for tokens: those of the conversation's text, and of the answer.
        self.prompt_tokens = max(1, sum(len((entry['content'] or '').split()) for entry in request.conversation()))
        completion_words = len((step.text or '').split()) + sum(
            len(call.args_json().split()) + 1 for call in step.tool_calls
        )
        self.completion_tokens = max(1, completion_words)

    def body(self) -> dict[str, Any]:
        """The whole answer, as JSON."""
        raise NotImplementedError

    def sse(self) -> Iterator[bytes]:
        """The answer as server-sent events."""
        raise NotImplementedError


class _ChatAnswer(_Answer):
    """A chat completion, whole or as stream chunks."""

    def __init__(self, request: RecordedRequest, payload: dict[str, Any], step: Step) -> None:
        super().__init__(request, payload, step)
        self.id = f'chatcmpl-{self.number}'
        stream_options = payload.get('stream_options')
        self.include_usage = isinstance(stream_options, dict) and bool(
            cast(dict[str, Any], stream_options).get('include_usage')
        )
        self.finish_reason = 'tool_calls' if step.tool_calls else 'stop'

    def usage(self) -> dict[str, int]:
        return {
            'prompt_tokens': self.prompt_tokens,
            'completion_tokens': self.completion_tokens,
            'total_tokens': self.prompt_tokens + self.completion_tokens,
        }

    def body(self) -> dict[str, Any]:
        message: dict[str, Any] = {'role': 'assistant', 'content': self.step.text, 'refusal': None}
        if self.step.tool_calls:
            message['tool_calls'] = [
                {'id': call_id, 'type': 'function', 'function': {'name': call.name, 'arguments': call.args_json()}}
                for call_id, call in zip(self.tool_call_ids, self.step.tool_calls, strict=True)
            ]
        return {
            'id': self.id,
            'object': 'chat.completion',
            'created': self.created,
            'model': self.model,
            'choices': [{'index': 0, 'message': message, 'finish_reason': self.finish_reason, 'logprobs': None}],
            'usage': self.usage(),
        }

    def sse(self) -> Iterator[bytes]:
        for chunk in self.chunks():
            yield b'data: ' + json.dumps(chunk).encode() + b'\n\n'
        yield b'data: [DONE]\n\n'

    def chunks(self) -> Iterator[dict[str, Any]]:
        yield self._chunk({'role': 'assistant', 'content': ''})
        if self.step.text:
            for text in text_chunks(self.step.text):
                yield self._chunk({'content': text})
        for index, (call_id, call) in enumerate(zip(self.tool_call_ids, self.step.tool_calls, strict=True)):
            function = {'name': call.name, 'arguments': ''}
            opening = {'index': index, 'id': call_id, 'type': 'function', 'function': function}
            yield self._chunk({'tool_calls': [opening]})
            arguments = call.args_json()
            # Two argument deltas, as real streams split arguments across chunks.
            middle = len(arguments) // 2
            for piece in (arguments[:middle], arguments[middle:]):
                yield self._chunk({'tool_calls': [{'index': index, 'function': {'arguments': piece}}]})
        yield self._chunk({}, finish_reason=self.finish_reason)
        if self.include_usage:
            yield {**self._envelope(), 'choices': [], 'usage': self.usage()}

    def _envelope(self) -> dict[str, Any]:
        return {'id': self.id, 'object': 'chat.completion.chunk', 'created': self.created, 'model': self.model}

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {'index': 0, 'delta': delta, 'finish_reason': finish_reason, 'logprobs': None}
        return {**self._envelope(), 'choices': [choice]}


class _ResponsesAnswer(_Answer):
    """A Responses API response, whole or as its stream of typed events.

    The output holds a `message` item with the step's text, if it has any, then a `function_call` item per tool
    call. A stream sends `response.created` and `response.in_progress`; per message item `output_item.added`,
    `content_part.added`, `output_text.delta`s, `output_text.done`, `content_part.done` and `output_item.done`;
    per function call `output_item.added`, two `function_call_arguments.delta`s, `function_call_arguments.done`
    and `output_item.done`; and last `response.completed` with the whole response and its usage.
    """

    def __init__(self, request: RecordedRequest, payload: dict[str, Any], step: Step) -> None:
        super().__init__(request, payload, step)
        self.payload = payload
        self.id = f'resp_{self.number}'
        self.message_id = f'msg_{self.number}'
        self._sequence_number = 0

    def usage(self) -> dict[str, Any]:
        return {
            'input_tokens': self.prompt_tokens,
            'input_tokens_details': {'cached_tokens': 0, 'cache_write_tokens': 0},
            'output_tokens': self.completion_tokens,
            'output_tokens_details': {'reasoning_tokens': 0},
            'total_tokens': self.prompt_tokens + self.completion_tokens,
        }

    def response(self, status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None) -> dict[str, Any]:
        payload = self.payload
        return {
            'id': self.id,
            'object': 'response',
            'created_at': self.created,
            'status': status,
            'background': False,
            'error': None,
            'incomplete_details': None,
            'instructions': payload.get('instructions'),
            'max_output_tokens': payload.get('max_output_tokens'),
            'metadata': payload.get('metadata') or {},
            'model': self.model,
            'output': output,
            'parallel_tool_calls': payload.get('parallel_tool_calls', True),
            'previous_response_id': payload.get('previous_response_id'),
            'reasoning': {'effort': None, 'summary': None},
            'temperature': payload.get('temperature', 1.0),
            'text': {'format': {'type': 'text'}},
            'tool_choice': payload.get('tool_choice', 'auto'),
            'tools': payload.get('tools') or [],
            'top_p': payload.get('top_p', 1.0),
            'truncation': 'disabled',
            'usage': usage,
        }

    def message_item(self, text: str, status: str = 'completed') -> dict[str, Any]:
        content = [self.text_part(text)] if status == 'completed' else []
        return {'id': self.message_id, 'type': 'message', 'role': 'assistant', 'status': status, 'content': content}

    @staticmethod
    def text_part(text: str) -> dict[str, Any]:
        return {'type': 'output_text', 'text': text, 'annotations': [], 'logprobs': []}

    def function_call_item(self, index: int, arguments: str | None = None) -> dict[str, Any]:
        call = self.step.tool_calls[index]
        return {
            'id': f'fc_{self.number}_{index}',
            'type': 'function_call',
            'call_id': self.tool_call_ids[index],
            'name': call.name,
            'arguments': call.args_json() if arguments is None else arguments,
            'status': 'completed' if arguments is None else 'in_progress',
        }

    def output(self) -> list[dict[str, Any]]:
        items = [self.message_item(self.step.text)] if self.step.text is not None else []
        return items + [self.function_call_item(index) for index in range(len(self.step.tool_calls))]

    def body(self) -> dict[str, Any]:
        return self.response('completed', self.output(), self.usage())

    def sse(self) -> Iterator[bytes]:
        for event in self.events():
            yield f'event: {event["type"]}\ndata: {json.dumps(event)}\n\n'.encode()

    def events(self) -> Iterator[dict[str, Any]]:
        yield self._event('response.created', response=self.response('in_progress', [], None))
        yield self._event('response.in_progress', response=self.response('in_progress', [], None))
        output_index = 0
        if self.step.text is not None:
            yield from self._message_events(output_index, self.step.text)
            output_index += 1
        for index in range(len(self.step.tool_calls)):
            yield from self._function_call_events(output_index, index)
            output_index += 1
        yield self._event('response.completed', response=self.body())

    def _message_events(self, output_index: int, text: str) -> Iterator[dict[str, Any]]:
        where = {'item_id': self.message_id, 'output_index': output_index, 'content_index': 0}
        added = self.message_item('', status='in_progress')
        yield self._event('response.output_item.added', output_index=output_index, item=added)
        yield self._event('response.content_part.added', **where, part=self.text_part(''))
        for delta in text_chunks(text) if text else []:
            yield self._event('response.output_text.delta', **where, delta=delta, logprobs=[])
        yield self._event('response.output_text.done', **where, text=text, logprobs=[])
        yield self._event('response.content_part.done', **where, part=self.text_part(text))
        yield self._event('response.output_item.done', output_index=output_index, item=self.message_item(text))

    def _function_call_events(self, output_index: int, index: int) -> Iterator[dict[str, Any]]:
        item = self.function_call_item(index)
        where = {'item_id': item['id'], 'output_index': output_index}
        added = self.function_call_item(index, arguments='')
        yield self._event('response.output_item.added', output_index=output_index, item=added)
        arguments: str = item['arguments']
        # Two argument deltas, as real streams split arguments across events.
        middle = len(arguments) // 2
        for piece in (arguments[:middle], arguments[middle:]):
            yield self._event('response.function_call_arguments.delta', **where, delta=piece)
        yield self._event('response.function_call_arguments.done', **where, name=item['name'], arguments=arguments)
        yield self._event('response.output_item.done', output_index=output_index, item=item)

    def _event(self, event_type: str, **fields: Any) -> dict[str, Any]:
        event = {'type': event_type, 'sequence_number': self._sequence_number, **fields}
        self._sequence_number += 1
        return event


def _text_of(content: object) -> str | None:
    """The text of message content: the string itself, or its parts' text joined by newlines; `None` for none."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    texts: list[str] = []
    for part in cast(list[Any], content):
        text = cast(dict[str, Any], part).get('text') if isinstance(part, dict) else None
        if isinstance(text, str):
            texts.append(text)
    return '\n'.join(texts)


def _role(role: object) -> str:
    return 'system' if role == 'developer' else str(role)


def _chat_conversation(messages: object) -> list[dict[str, Any]]:
    conversation: list[dict[str, Any]] = []
    for message in cast(list[Any], messages) if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        fields = cast(dict[str, Any], message)
        entry: dict[str, Any] = {'role': _role(fields.get('role')), 'content': _text_of(fields.get('content'))}
        tool_calls = fields.get('tool_calls')
        if isinstance(tool_calls, list) and tool_calls:
            entry['tool_calls'] = [_chat_tool_call(call) for call in cast(list[Any], tool_calls)]
        if entry['role'] == 'tool':
            entry['tool_call_id'] = fields.get('tool_call_id')
        conversation.append(entry)
    return conversation


def _chat_tool_call(call: object) -> dict[str, Any]:
    fields = cast(dict[str, Any], call) if isinstance(call, dict) else {}
    function = fields.get('function')
    spec = cast(dict[str, Any], function) if isinstance(function, dict) else {}
    return {'id': fields.get('id'), 'name': spec.get('name'), 'arguments': spec.get('arguments')}


def _responses_conversation(payload: dict[str, Any]) -> list[dict[str, Any]]:
    conversation: list[dict[str, Any]] = []
    instructions = _text_of(payload.get('instructions'))
    if instructions:
        conversation.append({'role': 'system', 'content': instructions})
    items = payload.get('input')
    if isinstance(items, str):
        return [*conversation, {'role': 'user', 'content': items}]
    for item in cast(list[Any], items) if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        fields = cast(dict[str, Any], item)
        item_type = fields.get('type', 'message')  # an easy input message has no type
        if item_type == 'message':
            conversation.append({'role': _role(fields.get('role')), 'content': _text_of(fields.get('content'))})
        elif item_type == 'function_call':
            call = {'id': fields.get('call_id'), 'name': fields.get('name'), 'arguments': fields.get('arguments')}
            if conversation and conversation[-1]['role'] == 'assistant':
                conversation[-1].setdefault('tool_calls', []).append(call)
            else:
                conversation.append({'role': 'assistant', 'content': None, 'tool_calls': [call]})
        elif item_type == 'function_call_output':
            output = _text_of(fields.get('output'))
            conversation.append({'role': 'tool', 'content': output, 'tool_call_id': fields.get('call_id')})
    return conversation
