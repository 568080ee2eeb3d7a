"""Property tests: every message part type, with random field values, round-trips through the codec exactly."""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, cast

import pytest
from durable_core._codec import decode, decode_messages, decode_response, encode, encode_messages, encode_response
from durable_core._tool_outcomes import (
    ToolReturned,
    _DefaultToolValue,  # pyright: ignore[reportPrivateUsage]
    _outcome_codec,  # pyright: ignore[reportPrivateUsage]
    _returned_json_data,  # pyright: ignore[reportPrivateUsage]
    decode_tool_outcome,
    encode_tool_outcome,
)
from durable_core.testing import strategies as ds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_ai import messages as m
from pydantic_ai.messages import ToolKind
from pydantic_ai.usage import RequestUsage, RunUsage
from typing_extensions import TypedDict

# The strategies draw parts of capability part kinds no module defines, on purpose: PydanticAI warns on each.
pytestmark = pytest.mark.filterwarnings('ignore:Unknown capability part kind')

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
PER_PART_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


# A typed tool part kind defined outside PydanticAI, so its promotion on decode is exercised too.
class LookupArgs(TypedDict):
    sku: str


class LookupResult(TypedDict):
    in_stock: int


LOOKUP_KIND = ToolKind('durabletest', 'lookup', args=LookupArgs, content=LookupResult)


class LookupCallPart(m.ToolCallPart[LookupArgs], kind=LOOKUP_KIND): ...


class LookupReturnPart(m.ToolReturnPart[LookupResult], kind=LOOKUP_KIND): ...


# The shared strategies, and the typed tool kind as a run builds its parts: base parts the message promotes.
REQUEST_PART_STRATEGIES: dict[type, Any] = {
    **ds.request_part_strategies(),
    LookupReturnPart: st.builds(
        m.ToolReturnPart,
        tool_name=ds.names(),
        content=st.fixed_dictionaries({'in_stock': st.integers(min_value=0, max_value=99)}),
        tool_call_id=ds.names(),
        tool_kind=st.just(LOOKUP_KIND.id),
        timestamp=ds.timestamps(),
    ),
}
RESPONSE_PART_STRATEGIES: dict[type, Any] = {
    **ds.response_part_strategies(),
    LookupCallPart: st.builds(
        m.ToolCallPart,
        tool_name=ds.names(),
        args=st.fixed_dictionaries({'sku': ds.names()}),
        tool_call_id=ds.names(),
        tool_kind=st.just(LOOKUP_KIND.id),
    ),
}
request_parts = st.one_of(*REQUEST_PART_STRATEGIES.values())
response_parts = st.one_of(*RESPONSE_PART_STRATEGIES.values())
message_histories = ds.message_histories(request_parts, response_parts)


# --- tests -----------------------------------------------------------------------------------------------------


def _left_out_of_equality(value: Any) -> list[tuple[str, str, Any]]:
    """The public fields `==` leaves out (`compare=False`) of each dataclass in `value`, in order.

    Such as PydanticAI 2.78's `ModelResponse.request_timestamp` and `duration`: a round trip must keep them too.
    """
    found: list[tuple[str, str, Any]] = []
    items: list[Any] = []
    if isinstance(value, list | tuple):
        items = list(cast(Any, value))
    elif isinstance(value, dict):
        items = list(cast(Any, value).values())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if not field.compare and not field.name.startswith('_'):
                found.append((type(value).__name__, field.name, item))
            items.append(item)
    for item in items:
        found += _left_out_of_equality(item)
    return found


def _assert_round_trip(decoded: Any, original: Any) -> None:
    assert decoded == original
    assert _left_out_of_equality(decoded) == _left_out_of_equality(original)


def _union_members(part_union: Any) -> set[type]:
    """The classes of a PydanticAI discriminated union of parts, through its `Annotated` layers."""
    (union, *_) = typing.get_args(part_union)
    members: set[type] = set()
    for member in typing.get_args(union):
        while typing.get_origin(member) is typing.Annotated:
            member = typing.get_args(member)[0]
        members.add(member)
    return members


def test_strategies_cover_every_request_part_type() -> None:
    # `RetryPromptPart` is deprecated: PydanticAI loads it as the part it stands for (see test_codec.py).
    expected = _union_members(m.ModelRequestPart) - {m.RetryPromptPart}  # pyright: ignore[reportDeprecated]
    capability_part: Any = getattr(m, 'CapabilityPart', None)  # PydanticAI 2.78
    if capability_part is not None:
        # No part is a `CapabilityPart` itself: each is of a kind, a subclass of one of its voices, or of a kind
        # this process does not know. A strategy for each of the three covers it.
        expected.remove(capability_part)
        for base in [getattr(m, f'{name}CapabilityPart') for name in ('Data', 'Instruction', 'Unknown')]:
            assert any(issubclass(part_type, base) for part_type in REQUEST_PART_STRATEGIES), base
    assert expected <= REQUEST_PART_STRATEGIES.keys()


def test_strategies_cover_every_response_part_type() -> None:
    assert _union_members(m.ModelResponsePart) <= RESPONSE_PART_STRATEGIES.keys()


@pytest.mark.parametrize('part_type', list(REQUEST_PART_STRATEGIES), ids=lambda part_type: part_type.__name__)
@PER_PART_SETTINGS
@given(data=st.data())
def test_each_request_part_type_round_trips(part_type: type, data: st.DataObject) -> None:
    request = data.draw(ds.model_requests(REQUEST_PART_STRATEGIES[part_type]))
    if request.parts:
        assert type(request.parts[0]) is part_type
    _assert_round_trip(decode_messages(encode_messages([request])), [request])


@pytest.mark.parametrize('part_type', list(RESPONSE_PART_STRATEGIES), ids=lambda part_type: part_type.__name__)
@PER_PART_SETTINGS
@given(data=st.data())
def test_each_response_part_type_round_trips(part_type: type, data: st.DataObject) -> None:
    response = data.draw(ds.model_responses(RESPONSE_PART_STRATEGIES[part_type]))
    if response.parts:
        assert type(response.parts[0]) is part_type
    _assert_round_trip(decode_response(encode_response(response)), response)


@PROPERTY_SETTINGS
@given(messages=message_histories)
def test_message_histories_round_trip(messages: list[m.ModelMessage]) -> None:
    encoded = encode_messages(messages)
    assert isinstance(encoded, bytes)
    json.loads(encoded)  # JSON, which Python's own parser reads
    _assert_round_trip(decode_messages(encoded), messages)
    _assert_round_trip(decode_messages(encoded.decode()), messages)


@PROPERTY_SETTINGS
@given(response=ds.model_responses(response_parts))
def test_responses_round_trip(response: m.ModelResponse) -> None:
    _assert_round_trip(decode_response(encode_response(response)), response)


@pytest.mark.skipif(
    'duration' not in {field.name for field in dataclasses.fields(m.ModelResponse)}, reason='PydanticAI 2.78 fields'
)
def test_a_response_keeps_its_request_timestamp_and_duration_which_equality_leaves_out() -> None:
    sent = datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=2)))
    response = m.ModelResponse(parts=[m.TextPart('Hi')], request_timestamp=sent, duration=timedelta(seconds=1.25))  # pyright: ignore[reportCallIssue]
    (from_history,) = decode_messages(encode_messages([response]))
    decoded: Any  # its fields are PydanticAI 2.78's
    for decoded in (decode_response(encode_response(response)), from_history):
        assert isinstance(decoded, m.ModelResponse)
        assert decoded.request_timestamp == sent
        assert decoded.duration == timedelta(seconds=1.25)
        assert _left_out_of_equality(decoded) == [
            ('ModelResponse', 'request_timestamp', sent),
            ('ModelResponse', 'duration', timedelta(seconds=1.25)),
        ]


@PROPERTY_SETTINGS
@given(usage=ds.request_usages())
def test_request_usage_round_trips(usage: RequestUsage) -> None:
    assert decode(encode(usage, RequestUsage), RequestUsage) == usage


@PROPERTY_SETTINGS
@given(usage=ds.run_usages())
def test_run_usage_round_trips(usage: RunUsage) -> None:
    assert decode(encode(usage, RunUsage), RunUsage) == usage


@settings(max_examples=50, deadline=None)
@given(value=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_non_finite_floats_in_tool_results_round_trip(value: float) -> None:
    part = m.ToolReturnPart('measure', {'reading': value}, 'call-1')
    (decoded,) = decode_messages(encode_messages([m.ModelRequest(parts=[part])]))
    assert isinstance(decoded, m.ModelRequest)
    reading = decoded.parts[0].content['reading']  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType]
    assert (math.isnan(value) and math.isnan(reading)) or reading == value  # pyright: ignore[reportUnknownArgumentType]


_json_data = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _classes(value: object) -> object:
    """The value's shape as classes, so that `1` and `True`, or a list and a tuple, compare unequal."""
    if isinstance(value, list):
        return [_classes(item) for item in cast(list[object], value)]
    if isinstance(value, dict):
        return {key: _classes(item) for key, item in cast(dict[str, object], value).items()}
    return (type(value), value)


@PROPERTY_SETTINGS
@given(value=_json_data)
def test_a_tool_result_of_json_data_is_written_as_the_codec_writes_it_and_read_back_the_same(value: object) -> None:
    # `encode_tool_outcome` writes JSON data with `json` (a fast path): the same bytes as the codec, which old
    # journals hold, and a value the run that made it may keep as it is (`MadeHere`), as a recovery reads it back.
    outcome = ToolReturned(value)
    written = encode_tool_outcome(outcome)
    assert written == _outcome_codec(_DefaultToolValue).encode(outcome)
    assert _classes(decode_tool_outcome(written).unwrap()) == _classes(value)


@pytest.mark.parametrize(
    'value',
    [
        1.5,
        [1, 2.0],
        {'kind': 'image-url', 'url': 'https://example.com/a.png'},
        (1, 2),
        2**64,
        'a\ud800',
        MappingProxyType({}),
    ],
    ids=['float', 'float-in-list', 'kind-key', 'tuple', 'big-int', 'lone-surrogate', 'mapping-proxy'],
)
def test_tool_results_the_fast_path_leaves_to_the_codec(value: object) -> None:
    assert _returned_json_data(value) is None
