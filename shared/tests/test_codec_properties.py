"""Property tests: every message part type, with random field values, round-trips through the codec exactly."""

from __future__ import annotations

import json
import math
import typing
from typing import Any

import pytest
from durable_core._codec import decode, decode_messages, decode_response, encode, encode_messages, encode_response
from durable_core.testing import strategies as ds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_ai import messages as m
from pydantic_ai.messages import ToolKind
from pydantic_ai.usage import RequestUsage, RunUsage
from typing_extensions import TypedDict

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
    assert decode_messages(encode_messages([request])) == [request]


@pytest.mark.parametrize('part_type', list(RESPONSE_PART_STRATEGIES), ids=lambda part_type: part_type.__name__)
@PER_PART_SETTINGS
@given(data=st.data())
def test_each_response_part_type_round_trips(part_type: type, data: st.DataObject) -> None:
    response = data.draw(ds.model_responses(RESPONSE_PART_STRATEGIES[part_type]))
    if response.parts:
        assert type(response.parts[0]) is part_type
    assert decode_response(encode_response(response)) == response


@PROPERTY_SETTINGS
@given(messages=message_histories)
def test_message_histories_round_trip(messages: list[m.ModelMessage]) -> None:
    encoded = encode_messages(messages)
    assert isinstance(encoded, bytes)
    json.loads(encoded)  # JSON, which Python's own parser reads
    assert decode_messages(encoded) == messages
    assert decode_messages(encoded.decode()) == messages


@PROPERTY_SETTINGS
@given(response=ds.model_responses(response_parts))
def test_responses_round_trip(response: m.ModelResponse) -> None:
    assert decode_response(encode_response(response)) == response


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
