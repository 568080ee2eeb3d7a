"""The PydanticAI losses the codec works around, shown with PydanticAI's own public API.

Each test asserts that the loss is still there upstream, and fails, naming the workaround that can go, once
PydanticAI keeps what it used to lose. Each also checks that the codec keeps it, so the workaround still earns
its place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from durable_core._codec import decode_messages, decode_response, encode_messages, encode_response
from durable_core._settings_codec import decode_model_settings, encode_model_settings
from pydantic import ConfigDict, PydanticSchemaGenerationError, TypeAdapter
from pydantic_ai import messages as m
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage
from typing_extensions import get_type_hints

STAMP = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _through_pydantic_ai(messages: list[m.ModelMessage]) -> list[m.ModelMessage]:
    """Messages as PydanticAI itself stores and reloads them."""
    return m.ModelMessagesTypeAdapter.validate_json(m.ModelMessagesTypeAdapter.dump_json(messages))


def _through_codec(messages: list[m.ModelMessage]) -> list[m.ModelMessage]:
    return decode_messages(encode_messages(messages))


def _still_raises(call: Callable[[], object], error_type: type[Exception], says: str, fixed: str) -> None:
    """Check that `call` still raises `error_type` with `says` in its message; fail with `fixed` if it does not."""
    try:
        call()
    except error_type as error:
        message = str(error)
    else:
        pytest.fail(fixed)
    assert says in message


def _content(messages: list[m.ModelMessage]) -> Any:
    """The content of the first part of the first message."""
    return cast(Any, messages[0].parts[0]).content


def _prompt(*content: m.UserContent) -> list[m.ModelMessage]:
    return [m.ModelRequest(parts=[m.UserPromptPart(content=list(content), timestamp=STAMP)])]


@pytest.mark.parametrize(
    ('item', 'upstream_class'),
    [
        (m.BinaryContent(data=b'\x89PNG', media_type='image/png'), m.BinaryImage),
        (m.BinaryAudio(data=b'RIFF', media_type='audio/wav'), m.BinaryContent),
    ],
    ids=['BinaryContent image', 'BinaryAudio'],
)
def test_pydantic_ai_rebuilds_a_binary_item_by_its_media_type(
    item: m.BinaryContent, upstream_class: type[m.BinaryContent]
) -> None:
    assert type(_content(_through_pydantic_ai(_prompt(item)))[0]) is upstream_class, (
        f'PydanticAI now keeps a `{type(item).__name__}` in a user prompt as it is: the `binary_classes` restoration '
        'in durable_core/_restorations.py::_collect can go'
    )
    assert _through_codec(_prompt(item)) == _prompt(item)
    assert type(_content(_through_codec(_prompt(item)))[0]) is type(item)


def test_pydantic_ai_drops_the_provider_counts_of_a_failed_attempts_usage() -> None:
    attempt = m.ModelRequestAttempt(
        model_name='first',
        outcome='error',
        error='ModelHTTPError: 503',
        timestamp=STAMP,
        duration=timedelta(seconds=1),
        usage=RequestUsage(input_tokens=10, web_searches=3),
    )
    response = m.ModelResponse(
        parts=[m.TextPart('hi')],
        usage=RequestUsage(input_tokens=7, web_searches=1),
        timestamp=STAMP,
        failed_attempts=[attempt],
    )
    [upstream] = _through_pydantic_ai([response])
    assert isinstance(upstream, m.ModelResponse)
    assert getattr(upstream.usage, 'web_searches', None) == 1  # the first usage in the type keeps it
    assert upstream.failed_attempts is not None
    assert upstream.failed_attempts[0].usage is not None
    assert not hasattr(upstream.failed_attempts[0].usage, 'web_searches'), (
        "PydanticAI now keeps a failed attempt's provider counts: the `usage_attributes` restoration in "
        'durable_core/_restorations.py::_collect can go'
    )
    assert _through_codec([response]) == [response]
    kept = decode_response(encode_response(response))
    assert kept == response
    assert kept.failed_attempts is not None
    assert getattr(kept.failed_attempts[0].usage, 'web_searches', None) == 3


@dataclass
class Stock:
    sku: str
    count: int


@pytest.mark.parametrize(
    ('content', 'upstream_content'),
    [((1, 2), [1, 2]), (STAMP, '2024-05-01T12:00:00Z'), (Stock('x1', 3), {'sku': 'x1', 'count': 3})],
    ids=['tuple', 'datetime', 'dataclass'],
)
def test_pydantic_ai_reads_a_tool_return_typed_any_back_as_json_data(content: Any, upstream_content: Any) -> None:
    def history(value: Any) -> list[m.ModelMessage]:
        part = m.ToolReturnPart(tool_name='stock', content=value, tool_call_id='c1', timestamp=STAMP)
        return [m.ModelRequest(parts=[part])]

    upstream_value = _content(_through_pydantic_ai(history(content)))
    assert upstream_value == upstream_content, (
        f'PydanticAI now reads a `{type(content).__name__}` in `ToolReturnPart.content` back as it was: the '
        '`loose_values` restoration in durable_core/_restorations.py::_collect_loose can go'
    )
    assert type(upstream_value) is type(upstream_content)
    assert _through_codec(history(content)) == history(content)


def test_pydantic_ai_writes_a_non_finite_float_as_null() -> None:
    part = m.ToolReturnPart(tool_name='ratio', content=math.inf, tool_call_id='c1', timestamp=STAMP)
    assert _content(_through_pydantic_ai([m.ModelRequest(parts=[part])])) is None, (
        'PydanticAI now keeps a non-finite float: `ser_json_inf_nan` in durable_core/_restorations.py::JSON_CONFIG '
        'can go'
    )
    assert _content(_through_codec([m.ModelRequest(parts=[part])])) == math.inf


def test_pydantic_ai_model_settings_have_no_schema_for_an_httpx_timeout() -> None:
    httpx = pytest.importorskip('httpx')
    _still_raises(
        lambda: TypeAdapter(ModelSettings),
        PydanticSchemaGenerationError,
        'httpx.Timeout',
        'Pydantic can now build a schema for `ModelSettings` (its `timeout: float | httpx.Timeout`): the timeout '
        'mapping in durable_core/_settings_codec.py::_json_friendly_hint can go',
    )
    settings: ModelSettings = {'timeout': httpx.Timeout(5.0, connect=2.0)}
    assert decode_model_settings(encode_model_settings(settings)) == settings


def test_pydantic_ai_model_settings_drop_a_providers_keys() -> None:
    # `arbitrary_types_allowed` gets past the `httpx.Timeout` above; a TypedDict takes a config only inside a tuple.
    adapter = TypeAdapter(tuple[ModelSettings], config=ConfigDict(arbitrary_types_allowed=True))
    settings: ModelSettings = {'temperature': 0.5, 'openai_reasoning_effort': 'low'}  # pyright: ignore[reportAssignmentType]
    [upstream] = adapter.validate_json(adapter.dump_json((settings,)))
    assert upstream == {'temperature': 0.5}, (
        "PydanticAI's `ModelSettings` now keeps a provider's keys: `extra='allow'` in "
        'durable_core/_settings_codec.py::_SETTINGS_CONFIG can go'
    )
    assert decode_model_settings(encode_model_settings(settings)) == settings


def test_pydantic_ai_mcp_sampling_settings_hints_do_not_resolve() -> None:
    mcp_sampling = pytest.importorskip('pydantic_ai.models.mcp_sampling')
    settings_type = mcp_sampling.MCPSamplingModelSettings
    _still_raises(
        lambda: get_type_hints(settings_type),
        NameError,
        'ModelPreferences',
        "PydanticAI's `MCPSamplingModelSettings` hints now resolve: the fallback to the base hints in "
        'durable_core/_settings_codec.py::_settings_wire_type is no longer needed for it',
    )
    settings = {'temperature': 0.5, 'mcp_model_preferences': {'hints': [{'name': 'claude'}]}}
    assert decode_model_settings(encode_model_settings(settings, settings_type), settings_type) == settings  # pyright: ignore[reportArgumentType]
