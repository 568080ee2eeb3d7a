"""Carrying a `RunContext` into a durable unit: what crosses, what is refused, and deps that cannot cross."""

from __future__ import annotations

import copy
import dataclasses
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from durable_core import DurableUsageError, NotCarriedError, UnserializableError
from durable_core._run_context import (
    CARRIED_RUN_CONTEXT_FIELDS,
    DurableRunContext,
    deserialize_run_context,
    serialize_run_context,
)
from durable_core._tool_outcomes import ToolOutcome, decode_tool_outcome, encode_tool_outcome
from opentelemetry.trace import NoOpTracer
from pydantic import BaseModel
from pydantic_ai import Agent, FunctionToolset, RunContext
from pydantic_ai import messages as m
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import RunUsage, UsageLimits


@dataclass
class ShopDeps:
    shop_id: str
    currency: str
    opened: datetime
    limits: tuple[int, int]


class ShopSettings(BaseModel):
    shop_id: str
    tax_rate: Decimal


MODEL = TestModel()
DEADLINE = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)


def _full_context(deps: Any) -> RunContext[Any]:
    usage = RunUsage(requests=2, tool_calls=1, input_tokens=30, output_tokens=12)
    return RunContext(
        deps=deps,
        model=MODEL,
        usage=usage,
        run_id='run-1',
        conversation_id='conv-1',
        run_step=4,
        retry=1,
        max_retries=3,
        retries={'lookup': 1},
        tool_call_id='call-9',
        tool_name='lookup',
        tool_call_approved=True,
        tool_call_metadata={'approved_by': 'ops', 'level': 2},
        partial_output=True,
        metadata={'tenant': 'acme', 'tags': ['a', 'b']},
        prompt=['Check stock', m.BinaryContent(b'\x89PNG', media_type='image/png')],
        model_settings={'temperature': 0.1, 'openai_reasoning_effort': 'low'},  # pyright: ignore[reportArgumentType]
        deadline=DEADLINE,
        usage_limits=UsageLimits(request_limit=9, cost_limit=Decimal('1.5')),
        trace_include_content=True,
        instrumentation_version=3,
        discovered_tool_names={'lookup', 'restock'},
        loaded_capability_ids={'inventory'},
        capability_active=True,
        messages=[m.ModelRequest.user_text_prompt('Check stock')],
        validation_context={'strict': True},
    )


DATACLASS_DEPS = ShopDeps('shop-1', 'EUR', datetime(2020, 5, 6, tzinfo=timezone(timedelta(hours=2))), (1, 5))


@pytest.fixture
def rebuilt() -> DurableRunContext[ShopDeps]:
    data = serialize_run_context(_full_context(DATACLASS_DEPS), deps_type=ShopDeps)
    return deserialize_run_context(data, deps_type=ShopDeps, model=MODEL)


@pytest.mark.parametrize(
    ('deps', 'deps_type'),
    [
        pytest.param(DATACLASS_DEPS, ShopDeps, id='dataclass'),
        pytest.param(ShopSettings(shop_id='s', tax_rate=Decimal('0.19')), ShopSettings, id='pydantic-model'),
        pytest.param(None, type(None), id='no-deps'),
        pytest.param({'shop_id': 's'}, dict[str, str], id='dict'),
    ],
)
def test_carried_fields_come_back_equal(deps: Any, deps_type: Any) -> None:
    original = _full_context(deps)

    rebuilt = deserialize_run_context(
        serialize_run_context(original, deps_type=deps_type), deps_type=deps_type, model=MODEL
    )

    assert isinstance(rebuilt, RunContext)
    assert type(rebuilt.deps) is type(deps)
    for name in sorted(CARRIED_RUN_CONTEXT_FIELDS):
        assert getattr(rebuilt, name) == getattr(original, name), name
    assert rebuilt.model is MODEL


def test_the_prompt_keeps_its_binary_item_class(rebuilt: DurableRunContext[ShopDeps]) -> None:
    assert isinstance(rebuilt.prompt, list)
    assert type(rebuilt.prompt[1]) is m.BinaryContent


def test_properties_built_on_carried_fields_work(rebuilt: DurableRunContext[ShopDeps]) -> None:
    assert rebuilt.last_attempt is False
    assert dataclasses.replace(rebuilt, retry=3).last_attempt is True
    remaining = rebuilt.remaining_time()
    assert remaining is not None
    assert remaining > 0


NOT_CARRIED = sorted(
    field.name
    for field in dataclasses.fields(RunContext)
    if field.init and not field.name.startswith('_') and field.name not in CARRIED_RUN_CONTEXT_FIELDS | {'model'}
)


def test_the_refused_fields_are_the_live_ones() -> None:
    assert {'messages', 'agent', 'tracer', 'tool_manager', 'validation_context', 'capabilities'} <= set(NOT_CARRIED)


@pytest.mark.parametrize('name', [*NOT_CARRIED, 'model_id'])
def test_reading_a_field_that_was_not_carried_raises(rebuilt: DurableRunContext[ShopDeps], name: str) -> None:
    with pytest.raises(NotCarriedError) as caught:
        getattr(rebuilt, name)
    message = str(caught.value)
    assert f'RunContext.{name}' in message
    assert 'durable unit' in message
    assert 'deps' in message  # names a way to get the value across
    assert not hasattr(rebuilt, name)


def test_reading_messages_explains_what_the_unit_has(rebuilt: DurableRunContext[ShopDeps]) -> None:
    with pytest.raises(NotCarriedError, match=r'`RunContext\.messages` was not carried') as caught:
        _ = rebuilt.messages
    assert 'tool_call_id' in str(caught.value)
    assert isinstance(caught.value, AttributeError)


def test_not_carried_fields_lists_them(rebuilt: DurableRunContext[ShopDeps]) -> None:
    assert rebuilt.not_carried_fields == frozenset(NOT_CARRIED)


def test_a_property_reading_a_refused_field_raises_too(rebuilt: DurableRunContext[ShopDeps]) -> None:
    with pytest.raises(NotCarriedError, match='realtime_session'):
        _ = rebuilt.context_window_used


@pytest.mark.parametrize(
    'copy_context',
    [
        pytest.param(lambda ctx: dataclasses.replace(ctx, tool_name='restock'), id='dataclasses.replace'),
        pytest.param(copy.copy, id='copy'),
        pytest.param(copy.deepcopy, id='deepcopy'),
    ],
)
def test_copies_keep_refusing(
    rebuilt: DurableRunContext[ShopDeps], copy_context: Callable[[Any], DurableRunContext[ShopDeps]]
) -> None:
    copied = copy_context(rebuilt)
    assert type(copied) is DurableRunContext
    assert copied.deps == rebuilt.deps
    assert copied.not_carried_fields == rebuilt.not_carried_fields
    with pytest.raises(NotCarriedError):
        _ = copied.messages


def test_equality_and_repr_do_not_read_refused_fields(rebuilt: DurableRunContext[ShopDeps]) -> None:
    assert rebuilt == copy.copy(rebuilt)
    assert rebuilt != dataclasses.replace(rebuilt, run_step=99)
    text = repr(rebuilt)
    assert 'messages=<not carried>' in text
    assert "run_id='run-1'" in text


def test_local_fields_fill_in_what_the_unit_has_itself() -> None:
    agent = Agent(MODEL, deps_type=ShopDeps)
    tracer = NoOpTracer()
    data = serialize_run_context(_full_context(DATACLASS_DEPS), deps_type=ShopDeps)

    rebuilt = deserialize_run_context(
        data, deps_type=ShopDeps, model=MODEL, local_fields={'agent': agent, 'tracer': tracer}
    )

    assert rebuilt.agent is agent
    assert rebuilt.tracer is tracer
    assert 'agent' not in rebuilt.not_carried_fields
    with pytest.raises(NotCarriedError):
        _ = rebuilt.messages


@pytest.mark.parametrize(
    ('local_fields', 'match'),
    [
        pytest.param({'no_such_field': 1}, 'no_such_field', id='unknown'),
        pytest.param({'_cancellation': None}, '_cancellation', id='private'),
        pytest.param({'run_id': 'other'}, 'run_id', id='carried'),
        pytest.param({'model': MODEL}, 'model', id='model'),
    ],
)
def test_local_fields_must_be_fields_the_payload_does_not_set(local_fields: dict[str, Any], match: str) -> None:
    data = serialize_run_context(_full_context(DATACLASS_DEPS), deps_type=ShopDeps)
    with pytest.raises(DurableUsageError, match=match):
        deserialize_run_context(data, deps_type=ShopDeps, model=MODEL, local_fields=local_fields)


async def test_a_toolset_runs_a_tool_with_the_rebuilt_context(rebuilt: DurableRunContext[ShopDeps]) -> None:
    toolset = FunctionToolset[ShopDeps]()

    @toolset.tool
    def price(ctx: RunContext[ShopDeps], amount: int) -> str:
        return f'{amount} {ctx.deps.currency} (attempt {ctx.retry + 1})'

    # The prefixed wrapper adjusts the context with `dataclasses.replace`.
    prefixed = toolset.prefixed('shop')
    tools = await prefixed.get_tools(rebuilt)

    outcome = await ToolOutcome.capture(prefixed.call_tool('shop_price', {'amount': 3}, rebuilt, tools['shop_price']))

    assert decode_tool_outcome(encode_tool_outcome(outcome)).unwrap() == '3 EUR (attempt 2)'


async def test_a_tool_reading_a_refused_field_fails_with_not_carried(rebuilt: DurableRunContext[ShopDeps]) -> None:
    toolset = FunctionToolset[ShopDeps]()

    @toolset.tool
    def history_length(ctx: RunContext[ShopDeps]) -> int:
        return len(ctx.messages)

    tools = await toolset.get_tools(rebuilt)
    outcome = await ToolOutcome.capture(toolset.call_tool('history_length', {}, rebuilt, tools['history_length']))

    decoded = decode_tool_outcome(encode_tool_outcome(outcome))
    with pytest.raises(Exception, match=r'NotCarriedError.*RunContext\.messages'):
        decoded.unwrap()


# --- what cannot cross -----------------------------------------------------------------------------------------


@dataclass
class LiveDeps:
    connection: socket.socket


@dataclass
class CallbackDeps:
    on_done: Callable[[], None]


@pytest.fixture
def open_socket() -> Iterator[socket.socket]:
    sock = socket.socket()
    yield sock
    sock.close()


def test_deps_holding_a_socket_are_refused_naming_the_type_and_the_fix(open_socket: socket.socket) -> None:
    ctx = _full_context(LiveDeps(open_socket))
    with pytest.raises(UnserializableError) as caught:
        serialize_run_context(ctx, deps_type=LiveDeps)
    message = str(caught.value)
    assert '`LiveDeps`' in message
    assert 'socket.socket' in message
    assert 'dataclass or Pydantic model' in message
    assert 'serializable handle' in message


def test_deps_holding_a_lambda_are_refused_naming_the_type() -> None:
    ctx = _full_context(CallbackDeps(on_done=lambda: None))
    with pytest.raises(UnserializableError, match=r'deps, a `CallbackDeps`.*function'):
        serialize_run_context(ctx, deps_type=CallbackDeps)


def test_untyped_deps_that_are_a_lambda_are_refused() -> None:
    with pytest.raises(UnserializableError, match=r'deps, a `function` declared as `object`'):
        serialize_run_context(_full_context(lambda: None), deps_type=object)


def test_metadata_that_is_not_json_data_is_refused() -> None:
    ctx = dataclasses.replace(_full_context(DATACLASS_DEPS), metadata={'started': datetime(2024, 1, 1)})
    with pytest.raises(UnserializableError, match=r"RunContext\.metadata\['started'\].*datetime"):
        serialize_run_context(ctx, deps_type=ShopDeps)


def test_tool_call_metadata_that_is_not_json_data_is_refused() -> None:
    ctx = dataclasses.replace(_full_context(DATACLASS_DEPS), tool_call_metadata={'ids': {1, 2}})
    with pytest.raises(UnserializableError, match=r'RunContext\.tool_call_metadata.*set'):
        serialize_run_context(ctx, deps_type=ShopDeps)


def test_provider_settings_that_are_not_json_data_are_refused() -> None:
    ctx = dataclasses.replace(_full_context(DATACLASS_DEPS), model_settings={'acme_client': object()})  # pyright: ignore[reportArgumentType]
    with pytest.raises(UnserializableError, match=r"ModelSettings\['acme_client'\]"):
        serialize_run_context(ctx, deps_type=ShopDeps)
