"""Cache keys: what goes into them, and the competitor's failure modes, each shown not to happen.

- object identity leaking into the hash, so results are never reused;
- runs that differ only in metadata or deps sharing one result;
- deps that Prefect cannot hash raising a hash error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from durable_core import UnserializableError
from durable_core._ids import UnitId
from durable_core._units import ToolCallInputs, UnitCall
from durable_core.testing import DurableCallCounter, ToolCall
from durable_prefect import UNIT_INPUTS, PrefectAgent, TaskConfig
from durable_prefect._cache import GENERATED_ID_PREFIX, fingerprint
from prefect import flow
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelRequest, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import RunUsage
from support import CountingModel


class Settings(BaseModel):
    region: str


@dataclass
class Deps:
    """Deps of many types (bytes, a set, a datetime, a Decimal, a nested model), serialized through `deps_type`."""

    user: str
    blob: bytes = b'binary'
    tags: set[str] = field(default_factory=lambda: {'b', 'a', 'c'})
    when: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    amount: Decimal = Decimal('1.10')
    settings: Settings = field(default_factory=lambda: Settings(region='eu'))


def _context(**overrides: Any) -> RunContext[Any]:
    fields: dict[str, Any] = {
        'deps': None,
        'model': TestModel(),
        'usage': RunUsage(),
        'messages': [ModelRequest(parts=[UserPromptPart('hi')])],
        'run_step': 1,
        'tool_call_id': 'call-1',
    }
    fields.update(overrides)
    return RunContext(**fields)


def _key(args: dict[str, Any], **overrides: Any) -> str:
    ctx = _context(**overrides)
    call = UnitCall(
        UnitId('a', 'tool_call', 'agent', 'tool'),
        None,
        tool_call_id=ctx.tool_call_id,
        inputs=ToolCallInputs('agent', 'tool', args, ctx),
    )
    return fingerprint(call, lambda deps: deps if isinstance(deps, str | None) else repr(deps))


def test_pydantic_ai_generates_tool_call_ids_with_the_prefix_we_normalize() -> None:
    assert ToolCallPart('tool', {}).tool_call_id.startswith(GENERATED_ID_PREFIX)


def test_key_leaves_out_timestamps_and_run_ids() -> None:
    first = [ModelRequest(parts=[UserPromptPart('hi', timestamp=datetime(2020, 1, 1, tzinfo=UTC))], run_id='r1')]
    second = [ModelRequest(parts=[UserPromptPart('hi', timestamp=datetime(2030, 1, 1, tzinfo=UTC))], run_id='r2')]
    assert _key({'x': 1}, messages=first) == _key({'x': 1}, messages=second)


def test_key_normalizes_generated_tool_call_ids_but_keeps_them_apart() -> None:
    def history(*ids: str) -> list[Any]:
        return [ModelResponse(parts=[ToolCallPart('tool', {'x': 1}, tool_call_id=i) for i in ids])]

    a1, a2, b1, b2 = (f'{GENERATED_ID_PREFIX}{n}' for n in ('a1', 'a2', 'b1', 'b2'))
    # The same call in two histories whose only difference is the generated ids: one key.
    assert _key({'x': 1}, messages=history(a1, a2), tool_call_id=a1) == _key(
        {'x': 1}, messages=history(b1, b2), tool_call_id=b1
    )
    # Two identical calls in one step: two keys.
    assert _key({'x': 1}, messages=history(a1, a2), tool_call_id=a1) != _key(
        {'x': 1}, messages=history(a1, a2), tool_call_id=a2
    )


def test_key_keeps_user_fields_named_like_volatile_ones() -> None:
    assert _key({'timestamp': 1}) != _key({'timestamp': 2})
    assert _key({'run_id': 'a'}) != _key({'run_id': 'b'})


def test_key_covers_args_step_deps_and_metadata() -> None:
    base = _key({'x': 1})
    assert _key({'x': 2}) != base
    assert _key({'x': 1}, run_step=2) != base
    assert _key({'x': 1}, deps='alice') != _key({'x': 1}, deps='bob')
    assert _key({'x': 1}, metadata={'tenant': 'a'}) != _key({'x': 1}, metadata={'tenant': 'b'})
    assert _key({'x': 1}, metadata={'a': 1, 'b': 2}) == _key({'x': 1}, metadata={'b': 2, 'a': 1})


def test_key_has_no_object_identity() -> None:
    class Live:
        """A live object whose default repr holds its address."""

    lock_a, lock_b = threading.Lock(), threading.Lock()
    # Equal by value, distinct objects: one key; the live parts count by type, never by address.
    assert _key({'x': 1}, metadata={'client': Live(), 'lock': lock_a}) == _key(
        {'x': 1}, metadata={'client': Live(), 'lock': lock_b}
    )


def _cross_run_agent(tmp_path: Path, name: str) -> tuple[PrefectAgent[Deps, str], DurableCallCounter]:
    counter = DurableCallCounter(tmp_path / f'{name}.log')
    model = CountingModel([[ToolCall('whoami', {})], 'done'], counter)
    agent = Agent(model, name=name, deps_type=Deps)

    @agent.tool
    def whoami(ctx: RunContext[Deps]) -> str:
        counter.record(f'whoami:{ctx.deps.user}')
        return ctx.deps.user

    config = TaskConfig(cache_policy=UNIT_INPUTS)
    return PrefectAgent(agent, model_task_config=config, tool_task_config=config), counter


async def test_runs_differing_only_in_deps_or_metadata_do_not_share_results(tmp_path: Path) -> None:
    prefect_agent, counter = _cross_run_agent(tmp_path, 'cross_run_deps')
    await prefect_agent.run('who?', deps=Deps(user='alice'))
    await prefect_agent.run('who?', deps=Deps(user='bob'))
    assert counter.counts() == {'model': 4, 'whoami:alice': 1, 'whoami:bob': 1}
    await prefect_agent.run('who?', deps=Deps(user='bob'), metadata={'tenant': 'x'})
    assert counter.counts() == {'model': 6, 'whoami:alice': 1, 'whoami:bob': 2}


async def test_cross_run_cache_reuses_results_of_equal_runs(tmp_path: Path) -> None:
    """Object identity does not leak into keys: a second run with equal (fresh) inputs reuses every result."""
    prefect_agent, counter = _cross_run_agent(tmp_path, 'cross_run_reuse')
    first = await prefect_agent.run('who?', deps=Deps(user='carol'), metadata={'tenant': 't'})
    second = await prefect_agent.run('who?', deps=Deps(user='carol'), metadata={'tenant': 't'})
    assert first.output == second.output == 'done'
    assert counter.counts() == {'model': 2, 'whoami:carol': 1}


async def test_deps_prefect_cannot_hash_work_and_are_reused_on_retry(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = CountingModel([[ToolCall('whoami', {})], 'done'], counter)
    agent = Agent(model, name='odd_deps', deps_type=Deps)

    @agent.tool
    def whoami(ctx: RunContext[Deps]) -> str:
        counter.record('whoami')
        if counter.count('whoami') == 1:
            raise RuntimeError('first attempt fails')
        return f'{ctx.deps.user} {sorted(ctx.deps.tags)} {ctx.deps.blob!r}'

    prefect_agent = PrefectAgent(agent)

    @flow(retries=1)
    async def outer() -> str:
        return (await prefect_agent.run('who?', deps=Deps(user='dora'))).output

    assert await outer() == 'done'
    assert counter.counts() == {'model': 2, 'whoami': 2}


async def test_live_object_deps_get_a_clear_error_before_the_flow_starts(tmp_path: Path) -> None:
    @dataclass
    class LiveDeps:
        lock: Any

    agent = Agent(TestModel(), name='live_deps', deps_type=LiveDeps)
    with pytest.raises(UnserializableError, match='deps_type'):
        await PrefectAgent(agent).run('hi', deps=LiveDeps(lock=threading.Lock()))
