"""Activity payloads: compact, lossless, and carrying only what the activity needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from durable_core import UnserializableError
from durable_temporal import _payloads as payloads
from pydantic import TypeAdapter
from pydantic_ai import RunContext
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.test import TestModel
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.usage import RunUsage

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
MESSAGES = [
    ModelRequest(parts=[UserPromptPart('hi', timestamp=NOW)], instructions='Be brief.', timestamp=NOW),
    ModelResponse(parts=[TextPart('thinking'), ToolCallPart('add', {'a': 1}, tool_call_id='c1')], timestamp=NOW),
    ModelRequest(parts=[ToolReturnPart('add', 2, tool_call_id='c1', timestamp=NOW)], timestamp=NOW),
]


def test_messages_round_trip_without_null_fields() -> None:
    encoded = payloads.encode_messages(MESSAGES)
    assert payloads.decode_messages(encoded) == MESSAGES
    assert 'null' not in json.dumps(encoded)
    full = TypeAdapter(list).dump_json(
        TypeAdapter(list[ModelRequest | ModelResponse]).dump_python(MESSAGES, mode='json')
    )
    assert len(json.dumps(encoded)) < len(full)


def test_request_parameters_round_trip() -> None:
    params = ModelRequestParameters(
        function_tools=[
            ToolDefinition(
                name='add', parameters_json_schema={'type': 'object', 'properties': {'a': {'type': 'integer'}}}
            )
        ],
        allow_text_output=True,
    )
    assert payloads.decode_params(payloads.encode_params(params)) == params


@dataclass
class Deps:
    city: str


def test_run_context_carries_deps_and_non_default_fields_only() -> None:
    codec = payloads.RunContextCodec(TypeAdapter(Deps))
    ctx = RunContext(
        deps=Deps('Oslo'),
        model=TestModel(),
        usage=RunUsage(requests=1),
        prompt='a long prompt that must not travel',
        messages=list(MESSAGES),
        run_id='run-1',
        tool_call_id='c1',
        retry=1,
    )
    encoded = codec.encode(ctx)
    assert encoded == {
        'deps': {'city': 'Oslo'},
        'run_id': 'run-1',
        'tool_call_id': 'c1',
        'retry': 1,
        'usage': {'requests': 1},
    }
    rebuilt = codec.decode(json.loads(json.dumps(encoded)), model=TestModel(), tool_name='add')
    assert rebuilt.deps == Deps('Oslo')
    assert (rebuilt.run_id, rebuilt.tool_call_id, rebuilt.retry, rebuilt.tool_name) == ('run-1', 'c1', 1, 'add')
    assert rebuilt.usage == RunUsage(requests=1)
    assert rebuilt.messages == []
    assert rebuilt.prompt is None


def test_unserializable_deps_name_their_type() -> None:
    class Client:
        pass

    codec = payloads.RunContextCodec(TypeAdapter(Deps))
    with pytest.raises(UnserializableError, match=r'deps of type .*Client cannot be sent.*deps_type=ThatType'):
        codec.encode_deps(Client())
