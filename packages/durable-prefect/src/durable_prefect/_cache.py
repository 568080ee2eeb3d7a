"""Cache keys of durable units: what determines a unit's result, hashed by value.

A unit's task gets four parameters, all short strings or numbers: the hash of its inputs
(`inputs_hash`), how many units with that same hash ran before it in the agent run
(`occurrence`), the agent run's replay-stable id (`run_scope`), and the hash of the unit's place in
the run's conversation with its own occurrence (`resume_key`). The cache policies below turn them
into Prefect cache keys, so the task-run parameters Prefect sees hold no user data and nothing
Prefect would have to hash itself.

The default, `UNIT_IN_RUN`, keys a unit by its run and `resume_key`: what the run's conversation
holds so far, and not what a new version of the agent may change (instructions and system prompts,
tool definitions, the model and its settings). So a flow run rerun by a new deployment loads what the
old one completed. Within one run, the conversation grows with every step (a response and the
request after it), and units with the same conversation are told apart by their order; so a key
never matches a unit of another step. `fingerprints` says what each hash covers.

What the inputs hash covers: the unit name; the messages (without timestamps, run and conversation ids,
and with framework-generated tool-call ids replaced by their order of appearance); the model
settings and request parameters; the tool name, arguments and call id; the run step and retry;
the deps and metadata in their serialized form; the suspended response whose job a model-cancel
unit cancels. Live objects (clients, locks, the model) never enter it: values that cannot be
serialized count by their type name only, never by identity.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, cast

from durable_core.engine import EventInputs, ModelCancelInputs, ModelRequestInputs, ToolCallInputs, UnitCall
from prefect.cache_policies import CachePolicy, CompoundCachePolicy
from prefect.context import TaskRunContext
from pydantic import BaseModel
from pydantic_ai import RunContext
from pydantic_ai.messages import ModelMessage, ModelRequest, SystemPromptPart
from pydantic_core import to_jsonable_python

__all__ = [
    'DEFAULT_CACHE_POLICY',
    'DEFAULT_PYDANTIC_AI_CACHE_POLICY',
    'RUN_SCOPE',
    'UNIT_INPUTS',
    'UNIT_IN_RUN',
    'ConversationHashes',
    'RunScope',
    'UnitInRun',
    'UnitInputs',
    'fingerprint',
    'fingerprints',
    'resume_fingerprint',
    'value_digest',
]

# Fields of PydanticAI's own dataclasses that change from one execution to the next without
# changing what a unit returns.
_VOLATILE_FIELDS = frozenset({'timestamp', 'run_id', 'conversation_id'})
# PydanticAI's prefix for tool-call ids it makes up when a model gives none (checked by a test).
GENERATED_ID_PREFIX = 'pyd_ai_'


@dataclass
class UnitInputs(CachePolicy):
    """Cache key from what determines a unit's result (its inputs, by value), and not the run.

    Alone, it reuses a unit's stored result in any run with the same inputs: a cache across runs.
    Combine it with `RUN_SCOPE` to reuse results only within one agent run, when its flow is retried or rerun, and
    only while every input is the same (`DEFAULT_CACHE_POLICY`, `UNIT_IN_RUN`, leaves out what a deploy changes).
    """

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        """The hash of the unit's inputs and their occurrence, or `None` for a task that is not a unit."""
        if 'inputs_hash' not in inputs:
            return None
        return _digest([inputs['inputs_hash'], inputs.get('occurrence', 0)])


@dataclass
class RunScope(CachePolicy):
    """Cache key from the agent run's replay-stable id.

    The id stays the same when the flow run is retried or rerun, and when a parent flow retries and
    Prefect makes a new subflow run for the agent, unlike Prefect's `RUN_ID`.
    """

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        """The agent run's scope, or `None` for a task that is not a unit."""
        scope = inputs.get('run_scope')
        return None if scope is None else _digest([scope])


@dataclass
class UnitInRun(CachePolicy):
    """Cache key from the agent run and the unit's place in its conversation, not from the agent's definition.

    A model request is keyed by the messages so far (without instructions and system prompts), a tool call by its
    tool, arguments, call id and step, each with how many units of the run had the same before it; not by the
    instructions, tool definitions, model or settings, which a new version of the agent may change. So a flow run
    rerun by a new deployment loads the results of every unit the previous version completed, and its later units
    see the new version's instructions and tools. Results are reused only within one agent run.
    """

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        """The hash of the run's scope and the unit's place in it, or `None` for a task that is not a unit.

        A task with no `resume_key` (the drop-in `PrefectModel`'s and toolsets', keyed by their inputs in their flow
        run) gets the key `UNIT_INPUTS + RUN_SCOPE` gives it.
        """
        scope, resume_key = inputs.get('run_scope'), inputs.get('resume_key')
        if resume_key is None:
            return _BY_INPUTS_IN_RUN.compute_key(task_ctx, inputs, flow_parameters, **kwargs)
        if scope is None:
            return None
        return _digest(['unit-in-run', scope, resume_key])


UNIT_INPUTS = UnitInputs()
"""Key by the unit's inputs alone: results are reused across runs with the same inputs."""

RUN_SCOPE = RunScope()
"""Key by the agent run: add to `UNIT_INPUTS` to keep results within one run."""

_BY_INPUTS_IN_RUN = CompoundCachePolicy(policies=[UNIT_INPUTS, RUN_SCOPE])

UNIT_IN_RUN = UnitInRun()
"""Key by the agent run and the unit's place in its conversation: a new version of the agent resumes a run."""

DEFAULT_CACHE_POLICY: CachePolicy = UNIT_IN_RUN
"""The default: a unit's stored result is reused only by the same agent run, on retry or rerun, also by a new version
of the agent (`UNIT_IN_RUN`). `UNIT_INPUTS + RUN_SCOPE`, the default before, reuses it only when every input is the
same, so a version with other instructions or tools repeats the run's completed units."""

DEFAULT_PYDANTIC_AI_CACHE_POLICY = DEFAULT_CACHE_POLICY
"""PydanticAI 2.68's name for the default cache policy, kept for code written for it: `DEFAULT_CACHE_POLICY`."""


def value_digest(value: Any) -> str:
    """The hash of `value` by value: volatile framework fields dropped, live objects by type name only."""
    return _digest(_Plain()(value))


def _digest(value: Any) -> str:
    return hashlib.sha256(_text(value)).hexdigest()


def _text(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=True).encode()


def fingerprint(call: UnitCall, encode_deps: Callable[[Any], Any]) -> str:
    """The hash of what determines `call`'s result (see the module docstring): the first of `fingerprints`."""
    return fingerprints(call, encode_deps)[0]


def resume_fingerprint(call: UnitCall) -> str:
    """The hash of `call`'s place in its run's conversation: the second of `fingerprints`."""
    return fingerprints(call, lambda deps: deps)[1]


def fingerprints(
    call: UnitCall, encode_deps: Callable[[Any], Any], conversation: ConversationHashes | None = None
) -> tuple[str, str]:
    """The inputs hash of `call` (what determines its result) and its resume hash (its place in the conversation).

    The resume hash leaves out what a new version of the agent may change. A model request: the messages, without
    the instructions and system prompts of the requests (PydanticAI builds them from the agent for each request; a
    rerun, from the version that runs it) and without volatile fields; not the tool definitions, model, settings or
    deps (the same for every unit of one run, or changed by a deploy). A tool call: the tool (toolset id and name),
    arguments, call id, run step and retry, and the messages as for a model request. An event: the event and run
    step. Only meaningful within one run (`UNIT_IN_RUN` keys by the run too): it leaves out what tells runs apart.
    The inputs hash covers the same and what the resume hash leaves out.

    Args:
        call: The unit call, with its inputs.
        encode_deps: Turns deps into their serialized (JSON) form; may raise for deps that cannot be.
        conversation: The hashes of the earlier units' messages of the same run and kind (`ConversationHashes.of`),
            so that only the messages new since then are hashed; without it, all are.
    """
    inputs = call.inputs
    conversation = conversation or ConversationHashes()
    unit = str(call.unit)
    full: dict[str, Any] = {'unit': unit}
    resume: dict[str, Any] = {'unit': unit}
    if isinstance(inputs, ModelRequestInputs):
        plain = conversation.hash(inputs.messages, full, resume)
        full['model_settings'] = plain(inputs.model_settings)
        full['parameters'] = plain(inputs.model_request_parameters)
        if inputs.run_context is not None:
            full['context'] = _context(inputs.run_context, plain, encode_deps)
    elif isinstance(inputs, ToolCallInputs):
        ctx = inputs.run_context
        # A tool may read the messages: with a model that repeats its call ids, a call after another conversation
        # must not load this one's result. First, so that generated call ids are numbered in the order they appear.
        plain = conversation.hash(ctx.messages, full, resume)
        full['context'] = _context(ctx, plain, encode_deps)
        full['tool'] = resume['tool'] = [inputs.toolset_id, inputs.tool_name]
        full['args'] = resume['args'] = plain(inputs.tool_args)
        full['tool_call_id'] = resume['tool_call_id'] = plain.tool_call_id(call.tool_call_id or ctx.tool_call_id)
        resume['step'] = [ctx.run_step, ctx.retry]
    elif isinstance(inputs, EventInputs):
        plain = conversation.hash(inputs.run_context.messages, full, {})
        full['context'] = _context(inputs.run_context, plain, encode_deps)
        full['event'] = resume['event'] = plain(inputs.event)
        resume['step'] = inputs.run_context.run_step
    elif isinstance(inputs, ModelCancelInputs):
        plain = _Plain()
        full['response'] = resume['response'] = plain(inputs.response)
    return _digest(full), _digest(resume)


@dataclass
class _Hashed:
    """One message of a conversation as hashed, with the state of the hashes after it."""

    message: ModelMessage
    """Held, so that its `id()` is not reused while the entry lives."""
    shape: tuple[int, ...]
    """The identities of its fields and of its parts' fields: PydanticAI changes a message by assigning to them."""
    conversation: Any
    """The hash of the conversation's JSON text up to this message (`hashlib` object, open list)."""
    from_agent: Any
    """The same for the instructions and system prompts of its requests."""
    requests: int
    """Requests up to this message, to put the commas of `from_agent`."""
    generated_ids: int
    """How many generated tool-call ids were numbered up to this message."""


class ConversationHashes:
    """The hashes of one run's conversation as it grows, so that each unit hashes only its new messages.

    A run's units see the same messages again, plus the new ones: hashing all of them for each unit makes a long
    run's keys cost as the square of its steps. The hashes are kept after each message, with the messages themselves
    and their shapes; a unit whose messages start with the same objects, unchanged, resumes from there. The digests
    are those of hashing the whole list at once: the JSON text of a list is its items' texts between brackets.
    """

    def __init__(self) -> None:
        self._hashed: list[_Hashed] = []
        self._generated_ids: dict[str, str] = {}

    @staticmethod
    def of(store: dict[Any, ConversationHashes], key: Any) -> ConversationHashes:
        """The hashes kept in `store` under `key` (a run and a kind of unit), made on first use."""
        hashes = store.get(key)
        if hashes is None:
            hashes = store[key] = ConversationHashes()
        return hashes

    def hash(self, messages: list[ModelMessage], full: dict[str, Any], resume: dict[str, Any]) -> _Plain:
        """Put the hash of `messages` into `full` and `resume`, and return the `_Plain` that numbered their ids.

        The conversation (without the instructions and system prompts of the requests) goes into both, those into
        `full` only.
        """
        same = 0
        for hashed, message in zip(self._hashed, messages, strict=False):
            if hashed.message is not message or hashed.shape != _shape(message):
                break
            same += 1
        del self._hashed[same:]
        # The ids numbered after the last message kept (later messages, or the caller's own) are numbered again.
        known = self._hashed[same - 1].generated_ids if same else 0
        plain = _Plain(dict(list(self._generated_ids.items())[:known]))
        for message in messages[same:]:
            self._hashed.append(self._next(message, plain))
        self._generated_ids = plain.generated_ids
        full['from_agent'] = _close(self._hashed[-1].from_agent if self._hashed else None)
        full['messages'] = resume['messages'] = _close(self._hashed[-1].conversation if self._hashed else None)
        return plain

    def _next(self, message: ModelMessage, plain: _Plain) -> _Hashed:
        last = self._hashed[-1] if self._hashed else None
        conversation = last.conversation.copy() if last else hashlib.sha256(b'[')
        from_agent = last.from_agent.copy() if last else hashlib.sha256(b'[')
        requests = last.requests if last else 0
        data = plain(message)
        if isinstance(message, ModelRequest):
            parts = cast(list[dict[str, Any]], data['parts'])
            if requests:
                from_agent.update(b',')
            from_agent.update(_text([data['instructions'], [part for part in parts if _is_system_prompt(part)]]))
            requests += 1
            data = {**data, 'instructions': None, 'parts': [part for part in parts if not _is_system_prompt(part)]}
        if last:
            conversation.update(b',')
        conversation.update(_text(data))
        return _Hashed(message, _shape(message), conversation, from_agent, requests, len(plain.generated_ids))


def _shape(message: ModelMessage) -> tuple[int, ...]:
    # What is not caught: a change inside a field's value (a part's `args` dict), which PydanticAI does not make.
    ids = list(map(id, vars(message).values()))
    for part in message.parts:
        ids.append(id(part))
        ids.extend(map(id, vars(part).values()))
    return tuple(ids)


def _close(open_list: Any) -> str:
    """The digest of a list whose JSON text `open_list` has hashed but for its closing bracket."""
    hasher = open_list.copy() if open_list is not None else hashlib.sha256(b'[')
    hasher.update(b']')
    return hasher.hexdigest()


def _is_system_prompt(part: dict[str, Any]) -> bool:
    return part.get('__type__') == SystemPromptPart.__qualname__


def _context(ctx: RunContext[Any], plain: _Plain, encode_deps: Callable[[Any], Any]) -> dict[str, Any]:
    """The run context's fields that a unit's result may depend on, but its messages (`_split_messages` has them)."""
    try:
        deps = encode_deps(ctx.deps) if ctx.deps is not None else None
    except Exception:
        deps = plain(ctx.deps)
    model = ctx.model
    return {
        'deps': deps,
        'metadata': plain(ctx.metadata),
        'model_settings': plain(ctx.model_settings),
        'model': [model.system, model.model_name],
        'run_step': ctx.run_step,
        'retry': ctx.retry,
        'tool_call_approved': ctx.tool_call_approved,
        'tool_call_metadata': plain(ctx.tool_call_metadata),
    }


class _Plain:
    """Turns a value into JSON data by value: volatile framework fields dropped, live objects by type name."""

    def __init__(self, generated_ids: dict[str, str] | None = None) -> None:
        self.generated_ids: dict[str, str] = generated_ids or {}
        """Tool-call ids PydanticAI made up, numbered in the order they appeared."""

    def tool_call_id(self, value: str | None) -> str | None:
        if value is None or not value.startswith(GENERATED_ID_PREFIX):
            return value
        return self.generated_ids.setdefault(value, f'<generated #{len(self.generated_ids)}>')

    def __call__(self, value: Any) -> Any:
        if value is None or isinstance(value, str | int | float | bool):
            return value
        if isinstance(value, dict):
            mapping = cast(dict[Any, Any], value)
            return {str(key): self(item) for key, item in mapping.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
        if isinstance(value, set | frozenset):
            items = [self(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
            return sorted(items, key=_digest)  # set order differs between processes
        if is_dataclass(value) and not isinstance(value, type):
            framework = type(value).__module__.split('.', 1)[0] == 'pydantic_ai'
            result: dict[str, Any] = {'__type__': type(value).__qualname__}
            for field in fields(value):
                if framework and field.name in _VOLATILE_FIELDS:
                    continue
                item = getattr(value, field.name)
                if framework and field.name == 'tool_call_id' and isinstance(item, str):
                    result[field.name] = self.tool_call_id(item)
                else:
                    result[field.name] = self(item)
            return result
        if isinstance(value, BaseModel):
            return {'__type__': type(value).__qualname__, **self(dict(value))}
        return to_jsonable_python(value, fallback=_by_type_name, bytes_mode='base64')


def _by_type_name(value: Any) -> str:
    # Never repr(): it holds the object's address, and a key with it would never match again.
    return f'<{type(value).__module__}.{type(value).__qualname__}>'
