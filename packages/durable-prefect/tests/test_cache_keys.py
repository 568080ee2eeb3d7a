"""Cache keys: what goes into them, and the competitor's failure modes, each shown not to happen.

- object identity leaking into the hash, so results are never reused;
- runs that differ only in metadata or deps sharing one result;
- deps that Prefect cannot hash raising a hash error;
- a new version of the agent (other instructions, system prompt, tools, model, settings) missing the results of the
  run it resumes: the default key (`UNIT_IN_RUN`) leaves them out, and keeps all the conversation (test_deploy.py
  shows it on a served deployment).
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
from durable_core._units import ModelRequestInputs, ToolCallInputs, UnitCall
from durable_core.testing import DurableCallCounter, ToolCall
from durable_prefect import UNIT_INPUTS, PrefectAgent, TaskConfig
from durable_prefect._cache import (
    GENERATED_ID_PREFIX,
    ConversationHashes,
    fingerprint,
    fingerprints,
    resume_fingerprint,
)
from prefect import flow
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.tools import ToolDefinition
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


def _conversation(
    *, instructions: str = 'Add.', system: str | None = None, prompt: str = 'What is 40 + 2?', result: int = 42
) -> list[Any]:
    """A run's messages before its third request, with the instructions (and system prompt) PydanticAI sets."""
    first = [SystemPromptPart(system)] if system is not None else []
    return [
        ModelRequest(parts=[*first, UserPromptPart(prompt)], instructions=instructions),
        ModelResponse(parts=[ToolCallPart('add', {'a': 40, 'b': 2}, tool_call_id='call-add')]),
        ModelRequest(parts=[ToolReturnPart('add', result, tool_call_id='call-add')], instructions=instructions),
        ModelResponse(parts=[TextPart('Checking.')]),
        ModelRequest(parts=[UserPromptPart('Sure?')], instructions=instructions),
    ]


def _model_keys(messages: list[Any], *, tools: tuple[str, ...] = ('add',), **overrides: Any) -> tuple[str, str]:
    """The resume key and the inputs hash of a model request."""
    parameters = ModelRequestParameters(function_tools=[ToolDefinition(name=name) for name in tools])
    inputs = ModelRequestInputs(messages, overrides.pop('model_settings', None), parameters, _context(**overrides))
    call = UnitCall(UnitId('a', 'model_request'), None, inputs=inputs)
    return resume_fingerprint(call), fingerprint(call, lambda deps: deps)


def test_resume_key_of_a_model_request_leaves_out_what_a_new_version_changes() -> None:
    resume, inputs = _model_keys(_conversation())
    changed = [
        _model_keys(_conversation(instructions='Add or multiply.')),
        _model_keys(_conversation(system='You are a calculator.')),
        _model_keys(_conversation(), tools=('add', 'multiply')),
        _model_keys(_conversation(), model_settings={'temperature': 0.1}),
        _model_keys(_conversation(), model=FunctionModel(lambda messages, info: ModelResponse(parts=[]))),
    ]
    assert [key for key, _ in changed] == [resume] * len(changed)
    # The inputs hash (`UNIT_INPUTS`, a cache across runs) still covers them all.
    assert inputs not in {inputs_hash for _, inputs_hash in changed}


def test_resume_key_of_a_model_request_covers_the_conversation() -> None:
    resume, _ = _model_keys(_conversation())
    assert _model_keys(_conversation(result=41))[0] != resume  # another tool result
    assert _model_keys(_conversation(prompt='What is 4 + 2?'))[0] != resume
    assert _model_keys(_conversation()[:3])[0] != resume  # an earlier step of the same run


def _tool_resume_key(args: dict[str, Any], *, tool: str = 'tool', **overrides: Any) -> str:
    ctx = _context(**overrides)
    call = UnitCall(
        UnitId('a', 'tool_call', 'agent', tool),
        None,
        tool_call_id=ctx.tool_call_id,
        inputs=ToolCallInputs('agent', tool, args, ctx),
    )
    return resume_fingerprint(call)


def test_resume_key_of_a_tool_call_is_its_tool_arguments_call_id_step_and_conversation() -> None:
    base = _tool_resume_key({'x': 1}, messages=_conversation())
    # Not the instructions and system prompts in the messages, nor the deps, metadata or model.
    assert _tool_resume_key({'x': 1}, messages=_conversation(instructions='Other.', system='System.')) == base
    assert _tool_resume_key({'x': 1}, messages=_conversation(result=41)) != base
    base = _tool_resume_key({'x': 1})
    other_model = FunctionModel(lambda messages, info: ModelResponse(parts=[]))
    assert _tool_resume_key({'x': 1}, deps='bob', metadata={'tenant': 'b'}, model=other_model) == base
    assert _tool_resume_key({'x': 2}) != base
    assert _tool_resume_key({'x': 1}, tool='other') != base
    assert _tool_resume_key({'x': 1}, tool_call_id='call-2') != base
    assert _tool_resume_key({'x': 1}, run_step=2) != base
    assert _tool_resume_key({'x': 1}, retry=1) != base


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


def _growing_run(steps: int) -> list[list[Any]]:
    """The messages each model request of a run sees: tool calls with generated ids, instructions on every request."""
    messages: list[Any] = [ModelRequest(parts=[SystemPromptPart('Sys.'), UserPromptPart('go')], instructions='Do.')]
    seen = [list(messages)]
    for step in range(steps):
        call = ToolCallPart('tool', {'step': step})  # a generated id, numbered by order of appearance
        messages.append(ModelResponse(parts=[call]))
        messages.append(ModelRequest(parts=[ToolReturnPart('tool', step, tool_call_id=call.tool_call_id)]))
        seen.append(list(messages))
    return seen


def _keys_of(messages: list[Any], conversation: ConversationHashes | None) -> tuple[str, str]:
    inputs = ModelRequestInputs(messages, None, ModelRequestParameters(), _context(messages=messages))
    return fingerprints(UnitCall(UnitId('a', 'model_request'), None, inputs=inputs), lambda deps: deps, conversation)


def test_a_run_hashes_its_new_messages_only_and_gets_the_keys_of_hashing_them_all() -> None:
    store: dict[Any, ConversationHashes] = {}
    conversation = ConversationHashes.of(store, ('run', 'model'))
    assert ConversationHashes.of(store, ('run', 'model')) is conversation
    steps = _growing_run(6)
    incremental = [_keys_of(messages, conversation) for messages in steps]
    assert incremental == [_keys_of(messages, None) for messages in steps]
    assert len(set(incremental)) == len(steps)
    # A list that goes otherwise (a history processor dropped the first exchange) is hashed afresh from there, its
    # generated ids numbered afresh too.
    processed = [steps[-1][0], *steps[-1][3:]]
    assert _keys_of(processed, conversation) == _keys_of(processed, None)
    # PydanticAI changes a message by assigning to its fields: an earlier message changed so is hashed again.
    changed = steps[-1]
    changed[2].parts = [*changed[2].parts, UserPromptPart('Also this.')]
    with_part = _keys_of(changed, conversation)
    assert with_part == _keys_of(changed, None) != incremental[-1]
    changed[0].instructions = 'Do it.'
    with_instructions = _keys_of(changed, conversation)
    assert with_instructions == _keys_of(changed, None)
    # The resume key leaves instructions out, the inputs hash not.
    assert with_instructions[1] == with_part[1]
    assert with_instructions[0] != with_part[0]


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
