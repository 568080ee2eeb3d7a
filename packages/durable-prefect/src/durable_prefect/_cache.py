"""Cache keys of durable units: what determines a unit's result, hashed by value.

A unit's task gets three parameters, all short strings or numbers: the hash of its inputs
(`inputs_hash`), how many units with that same hash ran before it in the agent run
(`occurrence`), and the agent run's replay-stable id (`run_scope`). The cache policies below turn
them into Prefect cache keys, so the task-run parameters Prefect sees hold no user data and nothing
Prefect would have to hash itself.

What the hash covers: the unit name; the messages (without timestamps, run and conversation ids,
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
from pydantic_core import to_jsonable_python

__all__ = [
    'DEFAULT_CACHE_POLICY',
    'DEFAULT_PYDANTIC_AI_CACHE_POLICY',
    'RUN_SCOPE',
    'UNIT_INPUTS',
    'RunScope',
    'UnitInputs',
    'fingerprint',
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
    Combine it with `RUN_SCOPE` (as `DEFAULT_CACHE_POLICY` does) to reuse results only within one
    agent run, when its flow is retried or rerun.
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


UNIT_INPUTS = UnitInputs()
"""Key by the unit's inputs alone: results are reused across runs with the same inputs."""

RUN_SCOPE = RunScope()
"""Key by the agent run: add to `UNIT_INPUTS` to keep results within one run."""

DEFAULT_CACHE_POLICY: CachePolicy = CompoundCachePolicy(policies=[UNIT_INPUTS, RUN_SCOPE])
"""The default: a unit's stored result is reused only by the same agent run, on retry or rerun."""

DEFAULT_PYDANTIC_AI_CACHE_POLICY = DEFAULT_CACHE_POLICY
"""PydanticAI 2.68's name for the default cache policy, kept for code written for it: `DEFAULT_CACHE_POLICY`."""


def value_digest(value: Any) -> str:
    """The hash of `value` by value: volatile framework fields dropped, live objects by type name only."""
    return _digest(_Plain()(value))


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(call: UnitCall, encode_deps: Callable[[Any], Any]) -> str:
    """The hash of what determines `call`'s result (see the module docstring).

    Args:
        call: The unit call, with its inputs.
        encode_deps: Turns deps into their serialized (JSON) form; may raise for deps that cannot be.
    """
    plain = _Plain()
    inputs = call.inputs
    material: dict[str, Any] = {'unit': str(call.unit)}
    if isinstance(inputs, ModelRequestInputs):
        material['messages'] = plain(inputs.messages)
        material['model_settings'] = plain(inputs.model_settings)
        material['parameters'] = plain(inputs.model_request_parameters)
        if inputs.run_context is not None:
            material['context'] = _context(inputs.run_context, plain, encode_deps, messages=False)
    elif isinstance(inputs, ToolCallInputs):
        material['context'] = _context(inputs.run_context, plain, encode_deps)
        material['tool'] = [inputs.toolset_id, inputs.tool_name]
        material['args'] = plain(inputs.tool_args)
        material['tool_call_id'] = plain.tool_call_id(call.tool_call_id or inputs.run_context.tool_call_id)
    elif isinstance(inputs, EventInputs):
        material['context'] = _context(inputs.run_context, plain, encode_deps)
        material['event'] = plain(inputs.event)
    elif isinstance(inputs, ModelCancelInputs):
        material['response'] = plain(inputs.response)
    return _digest(material)


def _context(
    ctx: RunContext[Any], plain: _Plain, encode_deps: Callable[[Any], Any], *, messages: bool = True
) -> dict[str, Any]:
    try:
        deps = encode_deps(ctx.deps) if ctx.deps is not None else None
    except Exception:
        deps = plain(ctx.deps)
    model = ctx.model
    return {
        'messages': plain(ctx.messages) if messages else None,
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

    def __init__(self) -> None:
        self._generated_ids: dict[str, str] = {}

    def tool_call_id(self, value: str | None) -> str | None:
        if value is None or not value.startswith(GENERATED_ID_PREFIX):
            return value
        return self._generated_ids.setdefault(value, f'<generated #{len(self._generated_ids)}>')

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
