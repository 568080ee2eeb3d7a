"""Activity arguments: durable-core's codec output, one payload per value, only what the activity needs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from durable_core import NotCarriedError, deserialize_run_context
from durable_temporal import _activity_args as args_io
from pydantic_ai import RunContext
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart, UserPromptPart
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
PARAMS = ModelRequestParameters(
    function_tools=[
        ToolDefinition(name='add', parameters_json_schema={'type': 'object', 'properties': {'a': {'type': 'integer'}}})
    ],
    allow_text_output=True,
)


def test_model_request_arguments_round_trip_and_leave_out_what_is_missing() -> None:
    encoded = args_io.ModelRequestArgs.encode(MESSAGES, PARAMS, None, None, None)
    assert encoded[2:] == ['null', 'null', 'null']  # settings, model key and run context left out
    decoded = args_io.ModelRequestArgs.decode(tuple(encoded))
    assert (decoded.messages, decoded.parameters, decoded.settings, decoded.model_key, decoded.ctx) == (
        MESSAGES,
        PARAMS,
        None,
        None,
        None,
    )


def test_model_request_arguments_with_a_model_key_and_no_settings() -> None:
    encoded = args_io.ModelRequestArgs.encode(MESSAGES, PARAMS, None, 'fast', None)
    assert encoded[2] == 'null'
    decoded = args_io.ModelRequestArgs.decode(tuple(encoded))
    assert (decoded.settings, decoded.model_key) == (None, 'fast')
    with_settings = args_io.ModelRequestArgs.decode(
        tuple(args_io.ModelRequestArgs.encode(MESSAGES, PARAMS, {'temperature': 0.5}, None, None))
    )
    assert with_settings.settings == {'temperature': 0.5}


def test_a_missing_required_argument_is_named() -> None:
    with pytest.raises(ValueError, match=r'without its request parameters \(argument 2\)'):
        args_io.ModelRequestArgs.decode(
            (args_io.ModelRequestArgs.encode(MESSAGES, PARAMS, None, None, None)[0], 'null')
        )


@dataclass
class Deps:
    city: str


def test_run_context_carries_deps_but_not_the_message_history() -> None:
    ctx = RunContext(
        deps=Deps('Oslo'),
        model=TestModel(),
        usage=RunUsage(requests=1),
        prompt='hi',
        messages=list(MESSAGES),
        run_id='run-1',
        tool_call_id='c1',
        tool_name='add',
        retry=1,
    )
    encoded = args_io.encode_ctx(ctx, Deps)
    assert 'messages' not in json.loads(encoded)
    rebuilt = deserialize_run_context(encoded, deps_type=Deps, model=TestModel())
    assert rebuilt.deps == Deps('Oslo')
    assert (rebuilt.run_id, rebuilt.tool_call_id, rebuilt.retry, rebuilt.tool_name) == ('run-1', 'c1', 1, 'add')
    assert rebuilt.usage == RunUsage(requests=1)
    with pytest.raises(NotCarriedError, match=r'RunContext\.messages'):
        _ = rebuilt.messages
