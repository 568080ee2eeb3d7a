"""What one activity is sent and returns, as JSON: only what the activity needs, each thing once.

A model request carries its messages, settings and request parameters, plus the model key when the run
selected a model other than the agent's own, and the run context only when an event handler will read it.
A tool call carries its arguments and the run context; the tool's name is in the activity's name. The run
context carries the deps (through the agent's `deps_type`) and the fields that differ from their defaults,
never the message history or the prompt, which would ride along in every payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic_core
from durable_core import UnserializableError
from pydantic import TypeAdapter
from pydantic_ai import AgentStreamEvent, RunContext, UsageLimits
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RunUsage

__all__ = [
    'RunContextCodec',
    'decode',
    'decode_event',
    'decode_messages',
    'decode_params',
    'decode_settings',
    'encode',
    'encode_event',
    'encode_messages',
    'encode_params',
    'encode_settings',
]

_MESSAGES: TypeAdapter[list[ModelMessage]] = TypeAdapter(list[ModelMessage])
# `ModelSettings` holds `httpx.Timeout`, which has no schema: settings travel as plain JSON.
_SETTINGS: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
_PARAMS: TypeAdapter[ModelRequestParameters] = TypeAdapter(ModelRequestParameters)
_EVENT: TypeAdapter[AgentStreamEvent] = TypeAdapter(AgentStreamEvent)
_USAGE: TypeAdapter[RunUsage] = TypeAdapter(RunUsage)
_LIMITS: TypeAdapter[UsageLimits] = TypeAdapter(UsageLimits)
_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def encode(value: dict[str, Any]) -> str:
    """JSON text of a payload whose values are already JSON-compatible."""
    return pydantic_core.to_json(value).decode()


def decode(text: str) -> dict[str, Any]:
    """A payload's JSON text parsed."""
    value: dict[str, Any] = pydantic_core.from_json(text)
    return value


def _compact(adapter: TypeAdapter[Any], value: Any) -> Any:
    """`value` as JSON values without its `None` fields, if that rebuilds an equal value; else in full.

    Most optional fields of messages and request parameters are `None`, and the history holds every request's
    whole conversation: leaving them out shrinks it by a third. The round trip proves nothing was lost.
    """
    compact = adapter.dump_python(value, mode='json', exclude_none=True)
    try:
        if adapter.validate_python(compact) == value:
            return compact
    except ValueError:
        pass
    return adapter.dump_python(value, mode='json')


def encode_messages(messages: list[ModelMessage]) -> Any:
    """Messages as JSON values."""
    return _compact(_MESSAGES, messages)


def decode_messages(value: Any) -> list[ModelMessage]:
    """Messages from JSON values."""
    return _MESSAGES.validate_python(value)


def encode_settings(settings: ModelSettings) -> Any:
    """Model settings as JSON values."""
    return _SETTINGS.dump_python(dict(settings), mode='json')


def decode_settings(value: Any) -> ModelSettings:
    """Model settings from JSON values."""
    settings: Any = _SETTINGS.validate_python(value)
    return settings


def encode_params(params: ModelRequestParameters) -> Any:
    """Model request parameters as JSON values."""
    return _compact(_PARAMS, params)


def decode_params(value: Any) -> ModelRequestParameters:
    """Model request parameters from JSON values."""
    return _PARAMS.validate_python(value)


def encode_event(event: AgentStreamEvent) -> Any:
    """An agent event as JSON values."""
    return _EVENT.dump_python(event, mode='json')


def decode_event(value: Any) -> AgentStreamEvent:
    """An agent event from JSON values."""
    return _EVENT.validate_python(value)


# RunContext fields an activity gets, each only when it differs from its default.
_PLAIN_FIELDS: dict[str, Any] = {
    'run_id': None,
    'conversation_id': None,
    'metadata': None,
    'retries': {},
    'tool_call_id': None,
    'tool_name': None,
    'retry': 0,
    'max_retries': 0,
    'run_step': 0,
    'tool_call_approved': False,
    'tool_call_metadata': None,
    'partial_output': False,
}


@dataclass(frozen=True)
class RunContextCodec:
    """Carries a `RunContext` into an activity: deps through the agent's `deps_type`, and the plain fields.

    Args:
        deps_adapter: The adapter of the agent's `deps_type`.
    """

    deps_adapter: TypeAdapter[Any]

    def encode_deps(self, deps: Any) -> Any:
        """Deps as JSON values, or `UnserializableError` naming their type and the fix."""
        try:
            value = self.deps_adapter.dump_python(deps, mode='json', warnings='error')
            pydantic_core.to_json(value)
        except Exception as error:
            raise UnserializableError(
                f'The deps of type {type(deps).__qualname__} cannot be sent to a Temporal activity as JSON '
                f'({type(error).__name__}: {error}). Make deps a dataclass or Pydantic model of JSON-serializable '
                'fields and set Agent(..., deps_type=ThatType); create clients and connections in the tools instead.'
            ) from error
        return value

    def encode(self, ctx: RunContext[Any], *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The fields of `ctx` an activity needs, as JSON values."""
        data: dict[str, Any] = {}
        if ctx.deps is not None:
            data['deps'] = self.encode_deps(ctx.deps)
        for name, default in _PLAIN_FIELDS.items():
            if name in skip:
                continue
            value = getattr(ctx, name)
            if value != default:
                data[name] = _ANY.dump_python(value, mode='json')
        if ctx.usage != RunUsage():
            data['usage'] = _USAGE.dump_python(ctx.usage, mode='json', exclude_defaults=True)
        if ctx.usage_limits is not None:
            data['usage_limits'] = _LIMITS.dump_python(ctx.usage_limits, mode='json', exclude_defaults=True)
        return data

    def decode(self, data: dict[str, Any], *, model: Model, **overrides: Any) -> RunContext[Any]:
        """A `RunContext` rebuilt in the activity; fields it was not sent have their defaults."""
        fields: dict[str, Any] = {name: data[name] for name in _PLAIN_FIELDS if name in data}
        deps = self.deps_adapter.validate_python(data['deps']) if 'deps' in data else None
        usage = _USAGE.validate_python(data['usage']) if 'usage' in data else RunUsage()
        if 'usage_limits' in data:
            fields['usage_limits'] = _LIMITS.validate_python(data['usage_limits'])
        fields.update(overrides)
        return RunContext(deps=deps, model=model, usage=usage, **fields)
