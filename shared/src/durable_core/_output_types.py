"""The Python types an agent's `output_type` declares, so a run result read back from a journal is typed again.

A result journaled as JSON holds its output as JSON data; rebuilt as `AgentRunResult[Any]` it would come back
as a dict where the run returned a model. `OutputTypes` turns an `OutputSpec` (a type, a function, a list of
them, or `ToolOutput`/`NativeOutput`/`PromptedOutput`/`TextOutput`) into the types a result's output may have,
and journals which one it had, so that a union such as `[Invoice, Refund]` comes back as the same member.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, Union, cast, get_type_hints

from pydantic_ai.agent import AgentRunResult
from pydantic_ai.output import NativeOutput, PromptedOutput, TextOutput, ToolOutput

from ._codec import decode, encode

__all__ = ['OutputTypes']

_MEMBER_HEADER = re.compile(r'\{"output_member":(\d+),"result":')


class OutputTypes:
    """The output types of one agent, and the codec of its run results."""

    def __init__(self, output_spec: Any) -> None:
        members: list[Any] = []
        for member in _flatten(output_spec):
            if member not in members:
                members.append(member)
        self.members: tuple[Any, ...] = tuple(members) or (Any,)
        """Every type an output may have, in the order the spec names them."""

    @cached_property
    def _union(self) -> Any:
        return self.members[0] if len(self.members) == 1 else Union[self.members]  # noqa: UP007

    def _member_of(self, output: Any) -> int | None:
        """The index of the member whose class `output` is exactly, if it is one of several."""
        if len(self.members) < 2:
            return None
        for index, member in enumerate(self.members):
            if isinstance(member, type) and type(output) is member:
                return index
        return None

    def encode_result(self, result: AgentRunResult[Any]) -> str:
        """The run result as JSON, its output written as the member type it has."""
        member = self._member_of(result.output)
        output_type = self._union if member is None else self.members[member]
        body = encode(result, AgentRunResult[output_type]).decode()
        return body if member is None else f'{{"output_member":{member},"result":{body}}}'

    def decode_result(self, data: str | bytes) -> AgentRunResult[Any]:
        """A run result rebuilt from `encode_result`'s JSON (or a plain result's), its output typed."""
        text = data.decode() if isinstance(data, bytes) else data
        header = _MEMBER_HEADER.match(text)
        if header is None:
            return decode(text, AgentRunResult[self._union])
        member = self.members[int(header.group(1))]
        return decode(text[header.end() : -1], AgentRunResult[member])


def _flatten(spec: Any) -> list[Any]:
    """The Python types of the outputs an `OutputSpec` allows."""
    if isinstance(spec, ToolOutput):
        return _flatten(cast(ToolOutput[Any], spec).output)
    if isinstance(spec, NativeOutput | PromptedOutput):
        return _flatten(cast(NativeOutput[Any], spec).outputs)
    if isinstance(spec, TextOutput):
        return [_return_type(cast(TextOutput[Any], spec).output_function)]
    if spec is None:
        return [type(None)]
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        return [member for item in cast(Sequence[Any], spec) for member in _flatten(item)]
    if isinstance(spec, type):
        if issubclass(spec, dict):
            return [dict[str, Any]]  # `StructuredDict(...)`: a dict with a JSON schema of its own
        return [spec]
    if inspect.isfunction(spec) or inspect.ismethod(spec):
        return [_return_type(cast(Callable[..., Any], spec))]
    return [spec]  # a type form: `list[int]`, `Literal[...]`, `A | B`, ...


def _return_type(function: Callable[..., Any]) -> Any:
    """What an output function returns (awaited, for an `async def`); `Any` when it does not say."""
    try:
        hints = get_type_hints(function)
    except Exception:  # an unresolvable annotation
        return Any
    return hints.get('return', Any)
