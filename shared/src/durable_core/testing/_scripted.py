"""A `FunctionModel` that answers a fixed script of steps, in order, streamed or not."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import anyio.to_thread
from pydantic_ai.messages import ModelMessage, ModelResponse, ModelResponsePart, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, DeltaToolCalls, FunctionModel

__all__ = ['ScriptExhaustedError', 'ScriptedModel', 'Step', 'StepLike', 'ToolCall']


@dataclass(frozen=True)
class ToolCall:
    """One tool call that a scripted answer makes.

    Args:
        name: The tool's name.
        args: The arguments, as a JSON object.
        tool_call_id: The call's ID; `None` lets the model or server make one up.
    """

    name: str
    args: Mapping[str, Any] = field(default_factory=dict[str, Any])
    tool_call_id: str | None = None

    def args_json(self) -> str:
        """The arguments as a JSON string, as providers send them."""
        return json.dumps(dict(self.args))


StepHook: TypeAlias = Callable[[], Awaitable[None] | None]
"""A callable run when a request reaches its step; a returned awaitable is awaited."""


@dataclass(frozen=True, kw_only=True)
class Step:
    """One scripted answer: text, tool calls, or both; or an error to raise.

    A request that reaches the step first calls `before`, then waits for `wait_for`, then answers. So
    `Step(text='late', before=reached.set, wait_for=release)` lets a test see that the request arrived and
    hold it there, for instance to kill the process while the request is in flight.

    Args:
        text: The text answer.
        tool_calls: The tool calls, in order.
        before: Called when a request reaches this step, before it answers or waits.
        wait_for: A `threading.Event` the request waits on before it answers. A thread event, so any thread,
            event loop or signal handler can release it.
        error: An exception to raise instead of answering, to simulate a failed model request.
    """

    text: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    before: StepHook | None = None
    wait_for: threading.Event | None = None
    error: BaseException | None = None

    def __post_init__(self) -> None:
        if self.text is None and not self.tool_calls and self.error is None:
            raise ValueError('A Step needs `text`, `tool_calls` or `error`')

    def response_parts(self) -> list[ModelResponsePart]:
        """The parts of the `ModelResponse` that answers with this step."""
        parts: list[ModelResponsePart] = []
        if self.text is not None:
            parts.append(TextPart(self.text))
        for call in self.tool_calls:
            if call.tool_call_id is None:
                parts.append(ToolCallPart(call.name, dict(call.args)))
            else:
                parts.append(ToolCallPart(call.name, dict(call.args), tool_call_id=call.tool_call_id))
        return parts

    async def run_hooks(self) -> None:
        """Call `before`, then wait for `wait_for`, without blocking the event loop."""
        if self.before is not None:
            result = self.before()
            if inspect.isawaitable(result):
                await result
        if self.wait_for is not None and not self.wait_for.is_set():
            # In a worker thread so the event loop keeps serving other tasks; abandoned if the request is cancelled.
            await anyio.to_thread.run_sync(self.wait_for.wait, abandon_on_cancel=True)

    def run_hooks_blocking(self, stop: threading.Event) -> bool:
        """Call `before` and wait for `wait_for` in the calling thread, unless `stop` is set first.

        Returns:
            `True` when the step may answer, `False` when `stop` was set while it waited.
        """
        if self.before is not None:
            result = self.before()
            if inspect.isawaitable(result):
                asyncio.run(_awaited(result))
        if self.wait_for is not None:
            while not self.wait_for.wait(0.05):
                if stop.is_set():
                    return False
        return True


StepLike: TypeAlias = Step | str | ToolCall | Sequence[ToolCall]
"""A `Step`, or a shorthand for one: a text answer, one tool call, or a list of tool calls."""


def as_step(step: StepLike) -> Step:
    """The `Step` that a shorthand stands for."""
    if isinstance(step, Step):
        return step
    if isinstance(step, str):
        return Step(text=step)
    if isinstance(step, ToolCall):
        return Step(tool_calls=(step,))
    return Step(tool_calls=tuple(step))


async def _awaited(awaitable: Awaitable[None]) -> None:
    await awaitable


class ScriptExhaustedError(AssertionError):
    """A scripted model or server got a request after its last step."""


class ScriptedModel(FunctionModel):
    """A `FunctionModel` that answers each request with the next step of a script.

    It answers streamed requests too, text in word-sized chunks and each tool call in one delta.

    Example:
        ```python
        import asyncio

        from durable_core.testing import ScriptedModel, ToolCall
        from pydantic_ai import Agent


        def add(a: int, b: int) -> int:
            return a + b


        async def main() -> None:
            # Two answers: first a call of the tool `add`, then, once the agent sends back its result, the final text.
            model = ScriptedModel([[ToolCall('add', {'a': 1, 'b': 2})], 'The sum is 3.'])
            agent = Agent(model, tools=[add])
            result = await agent.run('What is 1 + 2?')
            print(result.output)  # The sum is 3.
            print(f'{model.request_count} model requests')  # 2


        if __name__ == '__main__':
            asyncio.run(main())
        ```

    Args:
        steps: The answers, in order. A request after the last one raises `ScriptExhaustedError`.
        model_name: The model's name, as the agent and the messages report it.
        position: How a request picks its step. `'calls'`: the next unused step, so a retried request gets the
            step after the one that failed. `'history'`: the step numbered by how many model responses the
            request's messages already hold, so a request replayed by a restarted process, with a fresh
            `ScriptedModel`, gets the same step it would have had in the first process.
    """

    def __init__(
        self,
        steps: Sequence[StepLike],
        *,
        model_name: str = 'scripted',
        position: Literal['calls', 'history'] = 'calls',
    ) -> None:
        self.steps: tuple[Step, ...] = tuple(as_step(step) for step in steps)
        self.position: Literal['calls', 'history'] = position
        self.requests: list[list[ModelMessage]] = []
        """The messages of each request received, in order."""
        self._lock = threading.Lock()
        super().__init__(self._answer, stream_function=self._answer_stream, model_name=model_name)

    @property
    def request_count(self) -> int:
        """How many requests this model received, streamed or not."""
        return len(self.requests)

    def _take_step(self, messages: list[ModelMessage]) -> Step:
        with self._lock:
            if self.position == 'calls':
                index = len(self.requests)
            else:
                index = sum(isinstance(message, ModelResponse) for message in messages)
            self.requests.append(messages)
        if index >= len(self.steps):
            raise ScriptExhaustedError(
                f'ScriptedModel {self.model_name!r} has {len(self.steps)} steps, so request {index + 1} has no answer'
            )
        return self.steps[index]

    async def _answer(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        step = self._take_step(messages)
        await step.run_hooks()
        if step.error is not None:
            raise step.error
        return ModelResponse(parts=step.response_parts())

    async def _answer_stream(
        self, messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[str | DeltaToolCalls]:
        step = self._take_step(messages)
        await step.run_hooks()
        if step.error is not None:
            raise step.error
        if step.text is not None:
            for chunk in text_chunks(step.text):
                yield chunk
        for index, call in enumerate(step.tool_calls):
            yield {index: DeltaToolCall(name=call.name, json_args=call.args_json(), tool_call_id=call.tool_call_id)}


def text_chunks(text: str) -> list[str]:
    """`text` cut into word-sized chunks, each word with the whitespace after it, as a stream sends it."""
    return re.findall(r'\s*\S+\s*', text) or [text]
