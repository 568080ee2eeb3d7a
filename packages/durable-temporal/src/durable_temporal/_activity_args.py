"""The arguments of each activity: one payload per value, each written by durable-core's codec.

An activity gets only what it needs, as separate Temporal payloads holding durable-core's JSON unchanged
(`RawJson`), so the history shows each value as readable JSON and nothing is encoded twice:

| activity | arguments |
| --- | --- |
| model request | messages (`_history`), request parameters, then settings, model key and run context if any |
| model cancel | the suspended response whose job the run gives up on, then the model key if any |
| function-tool call | tool arguments, run context, then the model key if any |
| toolset tool call (MCP, dynamic) | tool name, tool arguments, run context, then the model key if any |
| toolset listing, instructions | run context, then the model key if any |
| event delivery | event, run context, then the model key if any |

An activity always gets all its arguments (Temporal only decodes them by type when the count matches its
parameters): a missing optional value is JSON `null`. The model key
is there only when the run selected a model other than the agent's own. A model request carries the run
context only when an event handler will read it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, cast

from durable_core import (
    decode,
    decode_model_settings,
    decode_request_parameters,
    encode,
    encode_model_settings,
    encode_request_parameters,
    serialize_run_context,
)
from pydantic_ai import AgentStreamEvent, RunContext
from pydantic_ai.messages import ModelResponse
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.settings import ModelSettings

from ._converter import RawJson

__all__ = ['ARITY', 'NULL', 'ModelRequestArgs', 'args_of', 'optional', 'required']

NULL = RawJson('null')
"""The argument standing for a value that is not there."""

ARITY = {
    'model_request': 5,
    'model_cancel': 2,
    'tool_call': 3,
    'toolset_call_tool': 4,
    'mcp_call_tool': 4,
    'toolset_get_tools': 2,
    'toolset_get_instructions': 2,
    'mcp_get_tools': 2,
    'mcp_get_instructions': 2,
    'event_handler': 3,
}
"""How many arguments each kind of activity takes."""

_TOOL_ARGS = dict[str, Any]


def _raw(data: bytes) -> RawJson:
    return RawJson(data.decode())


def args_of(*values: RawJson | None) -> list[RawJson]:
    """The arguments in order, `None` as JSON `null`."""
    return [NULL if value is None else value for value in values]


def required(args: tuple[str, ...], index: int, what: str) -> str:
    """The argument at `index`, which must be there."""
    if index >= len(args) or args[index] == NULL:
        raise ValueError(f'The activity was called without its {what} (argument {index + 1}).')
    return args[index]


def optional(args: tuple[str, ...], index: int) -> str | None:
    """The argument at `index`, or `None` if it was left out or `null`."""
    if index >= len(args) or args[index] == NULL:
        return None
    return args[index]


def encode_model_key(key: str | None) -> RawJson | None:
    """The model key argument, if the run selected a model."""
    return None if key is None else _raw(encode(key, str))


def decode_model_key(data: str | None) -> str | None:
    """The model key an activity was given, if any."""
    return None if data is None else decode(data, str)


def encode_ctx(ctx: RunContext[Any], deps_type: Any) -> RawJson:
    """The run context argument (durable-core carries the fields a unit may read)."""
    return _raw(serialize_run_context(ctx, deps_type=deps_type))


def encode_tool_args(tool_args: dict[str, Any]) -> RawJson:
    """The arguments of a tool call, as the model gave them."""
    return _raw(encode(tool_args, _TOOL_ARGS))


def decode_tool_args(data: str) -> dict[str, Any]:
    """The arguments of a tool call."""
    return decode(data, _TOOL_ARGS)


def encode_tool_name(name: str) -> RawJson:
    """The name of the toolset tool to call."""
    return _raw(encode(name, str))


def decode_tool_name(data: str) -> str:
    """The name of the toolset tool to call."""
    return decode(data, str)


def encode_model_result(response: str, offered_tools: list[str]) -> str:
    """A model request's result: its response's JSON, after the names of the tools the request offered.

    The workflow checks the names when it reads the response back (`decode_model_result`), so that a version of the
    agent without a tool the response calls stops with a clear error (`IncompatibleDeployError`).
    """
    return f'{{"offered_tools":{json.dumps(offered_tools, separators=(",", ":"))},"response":{response}}}'


def decode_model_result(data: str) -> tuple[str, list[str] | None]:
    """The response's JSON and the offered tools' names; `None` for a result of a release that did not record them.

    The response's JSON is cut out of the text, not parsed and written again: it can be large. Whitespace between
    the tokens is allowed, for a converter that writes JSON otherwise than ours.
    """
    head = _OFFERED_HEAD.match(data)
    if head is None:
        return data, None
    offered, end = _DECODER.raw_decode(data, head.end())
    response_head = _RESPONSE_HEAD.match(data, end)
    assert response_head is not None, data[:200]
    return data[response_head.end() :].rstrip().removesuffix('}'), cast(list[str], offered)


_OFFERED_HEAD = re.compile(r'\s*\{\s*"offered_tools"\s*:\s*')
_RESPONSE_HEAD = re.compile(r'\s*,\s*"response"\s*:\s*')
_DECODER = json.JSONDecoder()


def encode_response(response: ModelResponse) -> RawJson:
    """The suspended response a model-cancel activity cancels the job of."""
    return _raw(encode(response, ModelResponse))


def decode_response(data: str) -> ModelResponse:
    """The suspended response, in the model-cancel activity."""
    return decode(data, ModelResponse)


def encode_event(event: AgentStreamEvent) -> RawJson:
    """An agent event for the event-handler activity."""
    return _raw(encode(event, AgentStreamEvent))


def decode_event(data: str) -> AgentStreamEvent:
    """An agent event, in the event-handler activity."""
    return decode(data, AgentStreamEvent)


@dataclass(frozen=True)
class ModelRequestArgs:
    """The arguments of a model-request activity, decoded but for the run context and the messages.

    The run context stays JSON until a model is known; the messages until `_history` has the earlier ones.
    """

    messages: str
    parameters: ModelRequestParameters
    settings: ModelSettings | None
    model_key: str | None
    ctx: str | None

    @staticmethod
    def encode(
        messages: RawJson,
        parameters: ModelRequestParameters,
        settings: ModelSettings | None,
        model_key: str | None,
        ctx: RawJson | None,
    ) -> list[RawJson]:
        """The activity's arguments."""
        return args_of(
            messages,
            _raw(encode_request_parameters(parameters)),
            _raw(encode_model_settings(settings)) if settings else None,
            encode_model_key(model_key),
            ctx,
        )

    @staticmethod
    def decode(args: tuple[str, ...]) -> ModelRequestArgs:
        """The decoded arguments of a model-request activity."""
        settings = optional(args, 2)
        return ModelRequestArgs(
            messages=required(args, 0, 'messages'),
            parameters=decode_request_parameters(required(args, 1, 'request parameters')),
            settings=decode_model_settings(settings) if settings is not None else None,
            model_key=decode_model_key(optional(args, 3)),
            ctx=optional(args, 4),
        )
