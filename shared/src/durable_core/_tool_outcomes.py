"""How a tool call ended, as data that crosses a durable boundary, and the JSON text a unit journals for it.

`ModelRetry`, `ApprovalRequired`, `CallDeferred` and `ToolFailed` are answers, not failures: a unit
that let them escape would be retried by the engine. They are captured as data inside the unit (a
`ToolOutcome`) and raised again in workflow code, where PydanticAI expects them. Any other exception
propagates, so the engine's retry policy sees it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Generic, Literal, Never, TypeVar, cast

from pydantic import Discriminator, Tag
from pydantic_ai import ApprovalRequired, CallDeferred, ModelRetry, ToolFailed
from pydantic_ai.messages import ToolReturn, ToolReturnContent

from ._codec import Codec, codec_for

__all__ = [
    'ToolApprovalRequired',
    'ToolCallDeferred',
    'ToolCallErrored',
    'ToolCallFailedError',
    'ToolFailureReported',
    'ToolOutcome',
    'ToolRetryRequested',
    'ToolReturned',
    'capture_tool_call',
    'decode_tool_outcome',
    'encode_tool_outcome',
    'replay_tool_call',
]

T = TypeVar('T')
OutcomeT_co = TypeVar('OutcomeT_co', covariant=True)


class ToolCallFailedError(Exception):
    """A tool call raised an exception inside a durable unit; raised again where its outcome is unwrapped.

    The original exception object cannot cross the boundary, so this carries its type name and message.
    """

    error_type: str
    """The qualified name of the exception's type, like `ValueError` or `httpx.ConnectError`."""

    message: str
    """The exception's message, `str(exception)`."""

    def __init__(self, error_type: str, message: str) -> None:
        self.error_type = error_type
        self.message = message
        detail = f'{error_type}: {message}' if message else error_type
        super().__init__(f'The tool call raised {detail} inside the durable unit')

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.error_type, self.message)


class ToolOutcome(ABC, Generic[OutcomeT_co]):
    """How a tool call ended, as data that can cross a durable boundary.

    A durable unit runs the call with `capture`, which turns the
    exceptions PydanticAI treats as control flow into data; the caller gets the value back, or the equivalent
    exception, with `unwrap`. One of:

    * `ToolReturned`: the tool returned a value.
    * `ToolRetryRequested`: it raised `ModelRetry`.
    * `ToolFailureReported`: it raised `ToolFailed`.
    * `ToolApprovalRequired`: it raised `ApprovalRequired`.
    * `ToolCallDeferred`: it raised `CallDeferred`.
    * `ToolCallErrored`: it raised any other exception.
    """

    @staticmethod
    async def capture(call: Awaitable[T], *, capture_failures: bool = True) -> ToolOutcome[T]:
        """Await a tool call and return how it ended.

        Args:
            call: The tool call, such as `toolset.call_tool(name, args, ctx, tool)`.
            capture_failures: Whether an exception other than PydanticAI's control-flow ones becomes a
                `ToolCallErrored`. Pass `False` to let it propagate, so the
                engine's retry policy sees it.

        Returns:
            The outcome.
        """
        try:
            value = await call
        except (ModelRetry, ToolFailed, ApprovalRequired, CallDeferred) as control_flow:
            return ToolOutcome.from_exception(control_flow)
        except Exception as error:
            if not capture_failures:
                raise
            return ToolOutcome.from_exception(error)
        return ToolReturned(value)

    @staticmethod
    def from_exception(error: Exception) -> ToolOutcome[Never]:
        """The outcome of a tool call that raised `error`.

        Args:
            error: The exception the call raised.

        Returns:
            The outcome that raises the equivalent exception when unwrapped.
        """
        if isinstance(error, ModelRetry):
            return ToolRetryRequested(error.message)
        if isinstance(error, ToolFailed):
            return ToolFailureReported(error.message)
        if isinstance(error, ApprovalRequired):
            return ToolApprovalRequired(error.metadata)
        if isinstance(error, CallDeferred):
            return ToolCallDeferred(error.metadata, kind=error.kind)
        error_class = type(error)
        error_type = error_class.__qualname__
        if error_class.__module__ != 'builtins':
            error_type = f'{error_class.__module__}.{error_type}'
        return ToolCallErrored(error_type=error_type, message=str(error))

    @abstractmethod
    def unwrap(self) -> OutcomeT_co:
        """Return the value the tool returned, or raise the exception equivalent to the one it raised.

        Returns:
            The tool's return value.
        """


@dataclass(frozen=True)
class ToolReturned(ToolOutcome[OutcomeT_co]):
    """The tool returned a value."""

    value: OutcomeT_co
    """The return value."""

    outcome: Literal['returned'] = field(default='returned', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> OutcomeT_co:
        """Return the value.

        Returns:
            The tool's return value.
        """
        return self.value


@dataclass(frozen=True)
class ToolRetryRequested(ToolOutcome[Never]):
    """The tool raised `ModelRetry`: the model should call it again."""

    message: str
    """The message for the model."""

    outcome: Literal['retry'] = field(default='retry', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `ModelRetry` with the message.

        Raises:
            ModelRetry: Always.
        """
        raise ModelRetry(self.message)


@dataclass(frozen=True)
class ToolFailureReported(ToolOutcome[Never]):
    """The tool raised `ToolFailed`: a terminal failure the model sees."""

    message: str
    """The failure message for the model."""

    outcome: Literal['tool-failed'] = field(default='tool-failed', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `ToolFailed` with the message.

        Raises:
            ToolFailed: Always.
        """
        raise ToolFailed(self.message)


@dataclass(frozen=True)
class ToolApprovalRequired(ToolOutcome[Never]):
    """The tool raised `ApprovalRequired`: the call waits for a human's approval."""

    metadata: dict[str, Any] | None = None
    """The metadata the exception carried, for `DeferredToolRequests.metadata`."""

    outcome: Literal['approval-required'] = field(default='approval-required', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `ApprovalRequired` with the metadata.

        Raises:
            ApprovalRequired: Always.
        """
        raise ApprovalRequired(self.metadata)


@dataclass(frozen=True)
class ToolCallDeferred(ToolOutcome[Never]):
    """The tool raised `CallDeferred`: its result is produced outside the run."""

    metadata: dict[str, Any] | None = None
    """The metadata the exception carried, for `DeferredToolRequests.metadata`."""

    kind: Literal['external', 'question'] = 'external'
    """`'question'` when the call asks for content, such as an answer from the user."""

    outcome: Literal['deferred'] = field(default='deferred', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `CallDeferred` with the metadata and kind.

        Raises:
            CallDeferred: Always.
        """
        raise CallDeferred(self.metadata, kind=self.kind)


@dataclass(frozen=True, kw_only=True)
class ToolCallErrored(ToolOutcome[Never]):
    """The tool raised another exception, kept as its type name and message."""

    error_type: str
    """The qualified name of the exception's type, like `ValueError` or `httpx.ConnectError`."""

    message: str
    """The exception's message."""

    outcome: Literal['errored'] = field(default='errored', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `ToolCallFailedError` naming the exception.

        Raises:
            ToolCallFailedError: Always.
        """
        raise ToolCallFailedError(self.error_type, self.message)


def _tool_value_tag(value: Any) -> str:
    if isinstance(value, ToolReturn):
        return 'tool-return'
    if isinstance(value, Mapping):
        mapping = cast(Mapping[str, Any], value)
        if mapping.get('kind') == 'tool-return' and 'return_value' in mapping:
            return 'tool-return'
    return 'content'


_DefaultToolValue = Annotated[
    Annotated[ToolReturn[Any], Tag('tool-return')] | Annotated[ToolReturnContent, Tag('content')],
    Discriminator(_tool_value_tag),
]
"""What a tool returns when its return type is not given: a `ToolReturn`, or content as PydanticAI reads it.

Content keeps PydanticAI's multimodal items (`BinaryContent`, `ImageUrl`, ...) anywhere in lists and dicts,
and everything else as JSON data.
"""


@cache
def _outcome_codec(value_type: Any) -> Codec:
    outcome_union = Annotated[
        ToolReturned[value_type]  # pyright: ignore[reportInvalidTypeArguments]
        | ToolRetryRequested
        | ToolFailureReported
        | ToolApprovalRequired
        | ToolCallDeferred
        | ToolCallErrored,
        Discriminator('outcome'),
    ]
    return codec_for(outcome_union)


def encode_tool_outcome(outcome: ToolOutcome[Any], value_type: Any = _DefaultToolValue) -> bytes:
    """Encode how a tool call ended as JSON.

    Args:
        outcome: The outcome.
        value_type: The tool's return type. Left out, a `ToolReturn` and PydanticAI's multimodal items are kept,
            and everything else crosses as JSON data, such as a dict in place of a dataclass.

    Returns:
        The JSON, as bytes.

    Raises:
        UnserializableError: If the return value cannot be written as JSON.
    """
    if value_type is _DefaultToolValue and type(outcome) is ToolReturned:
        fast = _returned_json_data(cast(ToolReturned[Any], outcome).value)
        if fast is not None:
            return fast
    return _outcome_codec(value_type).encode(outcome)


def decode_tool_outcome(data: bytes | str, value_type: Any = _DefaultToolValue) -> ToolOutcome[Any]:
    """Decode a tool call outcome written by `encode_tool_outcome`.

    Args:
        data: The JSON, as bytes or str.
        value_type: The return type it was encoded with.

    Returns:
        An outcome equal to the one encoded.
    """
    return cast(ToolOutcome[Any], _outcome_codec(value_type).decode(data))


_JSON_DATA_DEPTH = 32
"""How deep `_is_json_data` looks before it leaves a value to the codec (a deep value is rare, and recursion costs)."""


def _is_json_data(value: object, depth: int = 0) -> bool:
    """Whether `value` is text, whole numbers, bools, `None`, or lists and `str`-keyed dicts of them (those classes).

    The codec writes such a value as `json.dumps` does and reads it back as the same value of the same classes, except
    a dict with a `'kind'` key, which it may read as a `ToolReturn` or a multimodal item. Floats are left to the codec,
    which formats them otherwise; so are integers beyond 64 bits.
    """
    cls = type(value)
    if cls is str or cls is bool or value is None:
        return True
    if cls is int:
        return -(2**63) <= cast(int, value) < 2**63
    if depth >= _JSON_DATA_DEPTH:
        return False
    if cls is list:
        return all(_is_json_data(item, depth + 1) for item in cast(list[object], value))
    if cls is dict:
        mapping = cast(dict[object, object], value)
        return 'kind' not in mapping and all(
            type(key) is str and _is_json_data(item, depth + 1) for key, item in mapping.items()
        )
    return False


def _returned_json_data(value: object) -> bytes | None:
    """The codec's JSON of `ToolReturned(value)` written by `json`, when `value` is JSON data; else `None`.

    Byte for byte what the codec writes (a property test checks it), at a fraction of its cost: most tools return
    text or JSON data.
    """
    if not _is_json_data(value):
        return None
    try:
        body = json.dumps(value, ensure_ascii=False, separators=(',', ':')).encode()
    except UnicodeEncodeError:  # a lone surrogate: the codec names it
        return None
    return b'{"value":' + body + b',"outcome":"returned"}'


async def capture_tool_call(call: Awaitable[Any]) -> str:
    """Await a tool call inside a unit and return its outcome as JSON text."""
    return encode_tool_outcome(await ToolOutcome.capture(call, capture_failures=False)).decode()


def replay_tool_call(data: str) -> Any:
    """In workflow code, the value a journaled outcome stands for, or its exception raised again."""
    return decode_tool_outcome(data).unwrap()
