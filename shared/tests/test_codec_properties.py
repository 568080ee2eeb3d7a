"""Property tests: every message part type, with random field values, round-trips through the codec exactly."""

from __future__ import annotations

import dataclasses
import datetime as datetime_module
import json
import math
import string
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from durable_core._codec import decode, decode_messages, decode_response, encode, encode_messages, encode_response
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


# --- scalars ---------------------------------------------------------------------------------------------------

texts = st.text(max_size=24)
names = st.text(alphabet=string.ascii_letters + string.digits + '_-', min_size=1, max_size=12)
optional_texts = st.none() | texts
optional_names = st.none() | names
finite_or_infinite_floats = st.floats(allow_nan=False)
# Whole-minute offsets: an ISO 8601 offset has no seconds.
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
timestamps = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.none() | st.just(UTC) | offsets
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))

json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | finite_or_infinite_floats | texts
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(texts, json_values, max_size=3)
optional_json_objects = st.none() | json_objects
# PydanticAI's multimodal items keep their own JSON config, which writes a non-finite float as `null`.
finite_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
vendor_metadata = st.none() | st.dictionaries(texts, finite_json_values, max_size=3)

# --- multimodal content ----------------------------------------------------------------------------------------

IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']
AUDIO_TYPES = ['audio/wav', 'audio/mpeg', 'audio/ogg']
OTHER_TYPES = ['application/pdf', 'text/plain', 'application/octet-stream', 'video/mp4']


def binary_items(media_types: list[str], binary_class: type[m.BinaryContent] = m.BinaryContent) -> Any:
    return st.builds(
        binary_class,
        data=st.binary(max_size=24),
        media_type=st.sampled_from(media_types),
        vendor_metadata=vendor_metadata,
        identifier=optional_names,
    )


binary_contents = st.one_of(
    binary_items(IMAGE_TYPES + AUDIO_TYPES + OTHER_TYPES),
    binary_items(IMAGE_TYPES, m.BinaryImage),
    binary_items(AUDIO_TYPES, m.BinaryAudio),
)


def file_urls(url_class: type[m.FileUrl], extensions: list[str]) -> Any:
    return st.builds(
        url_class,
        url=st.builds(
            lambda name, extension: f'https://example.com/{name}{extension}', names, st.sampled_from(extensions)
        ),
        media_type=st.none() | st.sampled_from(IMAGE_TYPES + AUDIO_TYPES + OTHER_TYPES),
        identifier=optional_names,
        force_download=st.booleans() | st.just('allow-local'),
        vendor_metadata=vendor_metadata,
    )


uploaded_files = st.builds(
    m.UploadedFile,
    file_id=names,
    provider_name=st.sampled_from(typing.get_args(m.UploadedFileProviderName)),
    media_type=st.none() | st.sampled_from(IMAGE_TYPES + OTHER_TYPES),
    vendor_metadata=vendor_metadata,
    identifier=optional_names,
)

multimodal_items = st.one_of(
    binary_contents,
    file_urls(m.ImageUrl, ['.png', '.jpg', '']),
    file_urls(m.AudioUrl, ['.wav', '.mp3', '']),
    file_urls(m.DocumentUrl, ['.pdf', '.txt', '']),
    file_urls(m.VideoUrl, ['.mp4', '.webm', '']),
    uploaded_files,
)

user_content_items = st.one_of(
    texts,
    st.builds(m.TextContent, content=texts, metadata=json_values),
    st.builds(
        m.StructuredContent,
        value=json_values,
        content=st.just('') | st.text(min_size=1, max_size=24),
        tag=st.sampled_from([None, 'ui_state', 'order']),
        description=optional_texts,
    ),
    multimodal_items,
    st.builds(m.CachePoint, ttl=st.sampled_from(['5m', '1h'])),
)


@dataclasses.dataclass
class Parcel:
    """A user's dataclass returned by a tool: it comes back as itself, not as a dict."""

    sku: str
    shipped: datetime_module.date
    extra: Any = None


# Python values JSON writes as strings or lists, which the codec restores in fields typed `Any`.
python_values = st.one_of(
    st.dates(),
    timestamps,
    durations,
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.binary(max_size=8),
    st.tuples(json_scalars, st.dates()),
    st.frozensets(st.integers(), max_size=3),
    st.builds(Parcel, sku=texts, shipped=st.dates(), extra=json_values | st.dates()),
)

# A tool's result: JSON data, Python values, files, or files inside JSON data.
tool_return_contents = st.one_of(
    json_values,
    python_values,
    multimodal_items,
    st.lists(json_values | python_values | multimodal_items, max_size=4),
    st.dictionaries(texts, json_values | python_values | multimodal_items, max_size=3),
)

# --- request parts ---------------------------------------------------------------------------------------------

# Ids as the framework issues them: no `:` inside a segment, and a run's instructions always named.
instruction_ids = st.one_of(
    st.builds(m.InstructionId, st.just(m.AgentInstructionSource()), name=optional_names),
    st.builds(m.InstructionId, st.builds(m.ToolsetInstructionSource, names), name=optional_names),
    st.builds(m.InstructionId, st.builds(m.CapabilityInstructionSource, names), name=optional_names),
    st.builds(m.InstructionId, st.just(m.RunInstructionSource()), name=names),
)
instruction_parts = st.builds(
    m.InstructionPart,
    content=texts,
    dynamic=st.booleans(),
    on_change=st.sampled_from(['rewrite', 'append']),
    name=optional_names,
    id=st.none() | instruction_ids,
)
error_details = st.fixed_dictionaries(
    {
        'type': names,
        'loc': st.lists(names | st.integers(min_value=0, max_value=9), max_size=3).map(tuple),
        'msg': texts,
        'input': json_values,
    },
    optional={'ctx': json_objects, 'url': texts},
)
tool_kinds = st.sampled_from([None, 'other.kind'])

REQUEST_PART_STRATEGIES: dict[type, Any] = {
    m.SystemPromptPart: st.builds(
        m.SystemPromptPart,
        content=texts,
        timestamp=timestamps,
        dynamic_ref=optional_names,
        context_id=optional_names,
        scope=st.sampled_from(['conversation', 'request']),
        metadata=optional_json_objects,
    ),
    m.UserPromptPart: st.builds(
        m.UserPromptPart, content=texts | st.lists(user_content_items, max_size=4), timestamp=timestamps
    ),
    m.SpeechPart: st.builds(
        m.SpeechPart,
        speaker=st.just('user'),
        transcript=optional_texts,
        audio=st.none() | binary_contents,
        interrupted_at_ms=st.none() | st.integers(min_value=0, max_value=10**6),
        timestamps=st.none()
        | st.lists(
            st.builds(
                m.SpeechTimestamp,
                text=texts,
                start_ms=st.integers(min_value=0, max_value=10**6),
                duration_ms=st.integers(min_value=0, max_value=10**4),
                granularity=st.sampled_from(['word', 'segment']),
            ),
            max_size=3,
        ),
        id=optional_names,
        provider_name=optional_names,
        provider_details=optional_json_objects,
    ),
    m.ToolReturnPart: st.one_of(
        st.builds(
            m.ToolReturnPart,
            tool_name=names,
            content=tool_return_contents,
            tool_call_id=names,
            tool_kind=tool_kinds,
            metadata=json_values,
            timestamp=timestamps,
            outcome=st.sampled_from(['success', 'failed', 'denied', 'interrupted']),
        ),
        st.builds(
            m.ToolReturnPart,
            tool_name=names,
            # A retried call's errors as the framework stores them: JSON data, so `loc` is a list.
            content=texts
            | st.lists(error_details.map(lambda details: {**details, 'loc': list(details['loc'])}), max_size=2),
            tool_call_id=names,
            timestamp=timestamps,
            outcome=st.just('retried'),
            retry=st.none()
            | st.builds(
                m.RetryInfo,
                cause=st.sampled_from(typing.get_args(m.ToolRetryCause)),
                attempt=st.none() | st.integers(min_value=1, max_value=5),
                max_retries=st.none() | st.integers(min_value=1, max_value=5),
            ),
        ),
    ),
    m.ToolSearchReturnPart: st.builds(
        m.ToolSearchReturnPart,
        content=st.fixed_dictionaries(
            {'discovered_tools': st.lists(st.fixed_dictionaries({'name': names}), max_size=3)},
            optional={'message': texts},
        ),
        tool_call_id=names,
        metadata=json_values,
        timestamp=timestamps,
    ),
    m.LoadCapabilityReturnPart: st.builds(
        m.LoadCapabilityReturnPart,
        content=st.fixed_dictionaries({}, optional={'message': texts, 'instructions': texts}),
        tool_call_id=names,
        timestamp=timestamps,
    ),
    LookupReturnPart: st.builds(
        m.ToolReturnPart,  # a base part the message promotes, as a run builds it
        tool_name=names,
        content=st.fixed_dictionaries({'in_stock': st.integers(min_value=0, max_value=99)}),
        tool_call_id=names,
        tool_kind=st.just(LOOKUP_KIND.id),
        timestamp=timestamps,
    ),
    m.RetryFeedbackPart: st.builds(
        m.RetryFeedbackPart,
        content=texts | st.lists(error_details, max_size=2),
        retry=st.builds(
            m.RetryInfo,
            cause=st.sampled_from(typing.get_args(m.RetryFeedbackCause)),
            attempt=st.none() | st.integers(min_value=1, max_value=5),
            max_retries=st.none() | st.integers(min_value=1, max_value=5),
        ),
        timestamp=timestamps,
    ),
    m.ToolAvailabilityDeltaPart: st.builds(
        m.ToolAvailabilityDeltaPart, tools_added=st.lists(names, max_size=3), tool_call_id=optional_names
    ),
    m.CapabilityLoadDeltaPart: st.builds(
        m.CapabilityLoadDeltaPart, loaded=st.lists(names, max_size=3), tool_call_id=optional_names
    ),
    m.ModelSettingsDeltaPart: st.builds(
        m.ModelSettingsDeltaPart,
        settings=st.fixed_dictionaries(
            {}, optional={'thinking': st.none() | st.sampled_from(['minimal', 'low', 'medium', 'high', 'xhigh', 'max'])}
        ),
        top_level=st.booleans(),
    ),
    m.InstructionDeltaPart: st.builds(
        m.InstructionDeltaPart, id=st.none() | instruction_ids, content=optional_texts, base_hash=optional_names
    ),
    m.InstructionBaselinePart: st.builds(
        m.InstructionBaselinePart,
        instructions=st.lists(
            instruction_parts
            | st.builds(m.InstructionDigest, id=st.none() | instruction_ids, dynamic=st.booleans(), content_hash=names),
            max_size=3,
        ),
    ),
    # A summary the application wrote: a request's compaction part names no provider.
    m.CompactionPart: st.builds(m.CompactionPart, content=optional_texts, metadata=optional_json_objects),
}

# --- response parts --------------------------------------------------------------------------------------------

citations = st.builds(
    m.Citation,
    sources=st.lists(
        st.builds(m.WebCitationSource, url=texts, title=optional_texts, excerpts=st.lists(texts, max_size=2))
        | st.builds(m.DocumentCitationSource, document_id=optional_names, title=names, excerpts=st.lists(texts)),
        min_size=1,
        max_size=2,
    ),
    anchor=st.none()
    | st.integers(min_value=0, max_value=20).flatmap(
        lambda start: st.integers(min_value=start + 1, max_value=start + 20).flatmap(
            lambda end: st.sampled_from(
                [m.ContentCitationAnchor(start=start, end=end), m.MarkerCitationAnchor(start=start, end=end)]
            )
        )
    ),
)
provider_fields: dict[str, Any] = {
    'id': optional_names,
    'provider_name': optional_names,
    'provider_details': optional_json_objects,
}
tool_call_args = st.none() | texts | json_objects

RESPONSE_PART_STRATEGIES: dict[type, Any] = {
    m.TextPart: st.builds(
        m.TextPart, content=texts, citations=st.none() | st.lists(citations, max_size=2), **provider_fields
    ),
    m.ThinkingPart: st.builds(m.ThinkingPart, content=texts, signature=optional_texts, **provider_fields),
    m.ToolCallPart: st.builds(
        m.ToolCallPart,
        tool_name=names,
        args=tool_call_args,
        tool_call_id=names,
        tool_kind=tool_kinds,
        **provider_fields,
    ),
    m.ToolSearchCallPart: st.builds(
        m.ToolSearchCallPart,
        args=st.none() | texts | st.fixed_dictionaries({'queries': st.lists(texts, max_size=2)}),
        tool_call_id=names,
        **provider_fields,
    ),
    m.LoadCapabilityCallPart: st.builds(
        m.LoadCapabilityCallPart,
        args=st.none() | texts | st.fixed_dictionaries({'id': names}),
        tool_call_id=names,
        **provider_fields,
    ),
    LookupCallPart: st.builds(
        m.ToolCallPart,  # a base part the message promotes, as a model builds it
        tool_name=names,
        args=st.fixed_dictionaries({'sku': names}),
        tool_call_id=names,
        tool_kind=st.just(LOOKUP_KIND.id),
    ),
    m.NativeToolCallPart: st.builds(
        m.NativeToolCallPart,
        tool_name=names,
        args=tool_call_args,
        tool_call_id=names,
        tool_kind=st.sampled_from([None, 'mcp_server']),
        **provider_fields,
    ),
    m.NativeToolSearchCallPart: st.builds(
        m.NativeToolSearchCallPart,
        args=st.none() | st.fixed_dictionaries({'queries': st.lists(texts, max_size=2)}),
        tool_call_id=names,
        **provider_fields,
    ),
    m.NativeToolReturnPart: st.builds(
        m.NativeToolReturnPart,
        tool_name=names,
        content=tool_return_contents,
        tool_call_id=names,
        metadata=json_values,
        timestamp=timestamps,
        outcome=st.sampled_from(['success', 'failed', 'denied', 'interrupted', 'retried']),
        provider_name=optional_names,
        provider_details=optional_json_objects,
    ),
    m.NativeToolSearchReturnPart: st.builds(
        m.NativeToolSearchReturnPart,
        content=st.fixed_dictionaries(
            {'discovered_tools': st.lists(st.fixed_dictionaries({'name': names}), max_size=3)}
        ),
        tool_call_id=names,
        timestamp=timestamps,
        provider_name=optional_names,
    ),
    m.CompactionPart: st.builds(
        m.CompactionPart, content=optional_texts, metadata=optional_json_objects, **provider_fields
    ),
    m.FilePart: st.builds(m.FilePart, content=binary_contents, **provider_fields),
    m.SpeechPart: st.builds(
        m.SpeechPart,
        speaker=st.just('assistant'),
        transcript=optional_texts,
        audio=st.none() | binary_contents,
        interrupted_at_ms=st.none() | st.integers(min_value=0, max_value=10**6),
        **provider_fields,
    ),
}

# --- messages --------------------------------------------------------------------------------------------------

usage_counts = st.integers(min_value=0, max_value=10**9)
request_usages = st.builds(
    RequestUsage,
    input_tokens=usage_counts,
    cache_write_tokens=usage_counts,
    cache_read_tokens=usage_counts,
    output_tokens=usage_counts,
    unmeasured_requests=st.integers(min_value=0, max_value=2),
    output_reasoning_tokens=usage_counts,
    input_audio_tokens=usage_counts,
    audio_seconds=st.floats(min_value=0, allow_nan=False),
    details=st.dictionaries(names, usage_counts, max_size=2),
    cost=st.none() | st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False, allow_infinity=False),
    web_searches=usage_counts,  # a provider-specific count PydanticAI keeps as an attribute
)
failed_attempts = st.builds(
    m.ModelRequestAttempt,
    model_name=names,
    provider_name=optional_names,
    outcome=st.sampled_from(['error', 'rejected']),
    error=optional_texts,
    timestamp=timestamps,
    duration=durations,
    usage=st.none() | request_usages,
)


def model_requests(parts: Any) -> Any:
    return st.builds(
        m.ModelRequest,
        parts=st.lists(parts, max_size=3),
        timestamp=st.none() | timestamps,
        instructions=optional_texts,
        run_id=optional_names,
        conversation_id=optional_names,
        metadata=optional_json_objects,
        state=st.sampled_from(['complete', 'interrupted']),
    )


def model_responses(parts: Any) -> Any:
    return st.builds(
        m.ModelResponse,
        parts=st.lists(parts, max_size=3),
        usage=request_usages,
        model_name=optional_names,
        model_id=optional_names,
        timestamp=timestamps,
        provider_name=optional_names,
        provider_url=optional_texts,
        canonical_system=optional_names,
        provider_details=optional_json_objects,
        provider_response_id=optional_names,
        finish_reason=st.none() | st.sampled_from(typing.get_args(m.FinishReason)),
        run_id=optional_names,
        conversation_id=optional_names,
        metadata=optional_json_objects,
        workspace_ref=st.none() | st.builds(m.WorkspaceRef, provider=names, id=names),
        history_digest=optional_names,
        failed_attempts=st.none() | st.lists(failed_attempts, max_size=2),
        state=st.sampled_from(['complete', 'incomplete', 'suspended', 'interrupted']),
    )


request_parts = st.one_of(*REQUEST_PART_STRATEGIES.values())
response_parts = st.one_of(*RESPONSE_PART_STRATEGIES.values())
message_histories = st.lists(model_requests(request_parts) | model_responses(response_parts), max_size=4)


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
    request = data.draw(model_requests(REQUEST_PART_STRATEGIES[part_type]))
    if request.parts:
        assert type(request.parts[0]) is part_type
    assert decode_messages(encode_messages([request])) == [request]


@pytest.mark.parametrize('part_type', list(RESPONSE_PART_STRATEGIES), ids=lambda part_type: part_type.__name__)
@PER_PART_SETTINGS
@given(data=st.data())
def test_each_response_part_type_round_trips(part_type: type, data: st.DataObject) -> None:
    response = data.draw(model_responses(RESPONSE_PART_STRATEGIES[part_type]))
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
@given(response=model_responses(response_parts))
def test_responses_round_trip(response: m.ModelResponse) -> None:
    assert decode_response(encode_response(response)) == response


@PROPERTY_SETTINGS
@given(usage=request_usages)
def test_request_usage_round_trips(usage: RequestUsage) -> None:
    assert decode(encode(usage, RequestUsage), RequestUsage) == usage


@PROPERTY_SETTINGS
@given(
    requests=usage_counts,
    tool_calls=usage_counts,
    input_tokens=usage_counts,
    output_tokens=usage_counts,
    details=st.dictionaries(names, usage_counts, max_size=3),
    cost=st.none() | st.decimals(allow_nan=False, allow_infinity=False),
)
def test_run_usage_round_trips(
    requests: int, tool_calls: int, input_tokens: int, output_tokens: int, details: dict[str, int], cost: Decimal | None
) -> None:
    usage = RunUsage(
        requests=requests,
        tool_calls=tool_calls,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        details=details,
        cost=cost,
    )
    assert decode(encode(usage, RunUsage), RunUsage) == usage


@settings(max_examples=50, deadline=None)
@given(value=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_non_finite_floats_in_tool_results_round_trip(value: float) -> None:
    part = m.ToolReturnPart('measure', {'reading': value}, 'call-1')
    (decoded,) = decode_messages(encode_messages([m.ModelRequest(parts=[part])]))
    assert isinstance(decoded, m.ModelRequest)
    reading = decoded.parts[0].content['reading']  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType]
    assert (math.isnan(value) and math.isnan(reading)) or reading == value  # pyright: ignore[reportUnknownArgumentType]
