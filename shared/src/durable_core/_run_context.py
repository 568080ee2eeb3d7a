"""Carry the `RunContext` fields a durable unit needs across the boundary, and refuse the rest when read.

A tool or a model request runs in a durable unit (an activity, a step, a task), so its `RunContext` is rebuilt
there from JSON. Only plain data crosses: [`CARRIED_RUN_CONTEXT_FIELDS`][durable_core.CARRIED_RUN_CONTEXT_FIELDS].
Any other public field of the rebuilt [`DurableRunContext`][durable_core.DurableRunContext] raises
`NotCarriedError` when read, rather than reading as a default that would be silently wrong.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from pydantic_ai import RunContext
from pydantic_ai.messages import UserContent
from pydantic_ai.models import AbstractModel
from pydantic_ai.usage import RunUsage, UsageLimits

from ._codec import decode, encode, unserializable_reason
from ._errors import DurableUsageError, NotCarriedError, UnserializableError
from ._settings_codec import ModelSettingsJSON, check_model_settings, require_json_native

__all__ = ['CARRIED_RUN_CONTEXT_FIELDS', 'DurableRunContext', 'deserialize_run_context', 'serialize_run_context']

DepsT = TypeVar('DepsT')
DepsT_co = TypeVar('DepsT_co', covariant=True)


@dataclass(kw_only=True)
class _RunContextPayload(Generic[DepsT]):
    """The `RunContext` fields that cross a durable boundary, typed so that each decodes to what was encoded."""

    deps: DepsT
    usage: RunUsage
    run_id: str | None
    conversation_id: str | None
    run_step: int
    retry: int
    max_retries: int
    retries: dict[str, int]
    tool_call_id: str | None
    tool_name: str | None
    tool_call_approved: bool
    tool_call_metadata: Any
    partial_output: bool
    metadata: dict[str, Any] | None
    prompt: str | list[UserContent] | None
    model_settings: ModelSettingsJSON | None
    deadline: datetime | None
    usage_limits: UsageLimits | None
    trace_include_content: bool
    instrumentation_version: int
    discovered_tool_names: set[str]
    loaded_capability_ids: set[str]
    capability_active: bool | None


CARRIED_RUN_CONTEXT_FIELDS: frozenset[str] = frozenset(field.name for field in dataclasses.fields(_RunContextPayload))
"""The `RunContext` fields that [`serialize_run_context`][durable_core.serialize_run_context] carries."""

_RUN_CONTEXT_PUBLIC_FIELDS: frozenset[str] = frozenset(
    field.name for field in dataclasses.fields(RunContext) if field.init and not field.name.startswith('_')
)
"""Computed, so a field a later PydanticAI adds is refused inside a durable unit until it is carried."""


class _NotCarried:
    """Stands in for a field the durable unit was not given; reading the field raises `NotCarriedError`."""

    _instance: _NotCarried | None = None

    def __new__(cls) -> _NotCarried:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    # Copies must stay this object, or a copied context would hand the stand-in out as a value.
    def __copy__(self) -> _NotCarried:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _NotCarried:
        return self

    def __reduce__(self) -> str:
        return '_NOT_CARRIED'

    def __repr__(self) -> str:
        return '<not carried>'


_NOT_CARRIED = _NotCarried()


def _dataclass_copy_codes() -> frozenset[object]:
    """The code of the `dataclasses` functions that read every field of an instance to copy it."""
    functions: tuple[Any, ...] = (dataclasses.replace, getattr(dataclasses, '_replace', None))
    return frozenset(function.__code__ for function in functions if function is not None)


_DATACLASS_COPY_CODES = _dataclass_copy_codes()


class DurableRunContext(RunContext[DepsT_co]):
    """A `RunContext` rebuilt in a durable unit by [`deserialize_run_context`][durable_core.deserialize_run_context].

    Reading a public field the unit was not given raises `NotCarriedError`. `dataclasses.replace`, which
    PydanticAI's toolsets call to adjust a context, still works and keeps those fields refused.
    """

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if value is _NOT_CARRIED:
            caller = inspect.currentframe()
            caller = caller.f_back if caller is not None else None
            # `dataclasses.replace` reads every field to copy it; the copy keeps the stand-in.
            if caller is None or caller.f_code not in _DATACLASS_COPY_CODES:
                raise NotCarriedError(_not_carried_message(name, self.not_carried_fields))
        return value

    @property
    def not_carried_fields(self) -> frozenset[str]:
        """The public fields this context was not given, which raise `NotCarriedError` when read."""
        return frozenset(name for name, value in vars(self).items() if value is _NOT_CARRIED)

    @property
    def model_id(self) -> str | None:
        """Not carried: the durable unit is given its model, not the identifier it was selected by.

        Raises:
            NotCarriedError: Always.
        """
        raise NotCarriedError(_not_carried_message('model_id', self.not_carried_fields))

    def __eq__(self, other: object) -> bool:
        # The generated `__eq__` reads every field, which the refused ones would turn into an error.
        if type(other) is not type(self):
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # pyright: ignore[reportAssignmentType]

    def __repr__(self) -> str:
        fields = ', '.join(f'{name}={value!r}' for name, value in vars(self).items() if not name.startswith('_'))
        return f'{type(self).__name__}({fields})'


def _not_carried_message(name: str, not_carried: frozenset[str]) -> str:
    given = sorted(_RUN_CONTEXT_PUBLIC_FIELDS - not_carried)
    return (
        f'`RunContext.{name}` was not carried into this durable unit, so it cannot be read here. '
        f'The unit has: {", ".join(given)}. Read `{name}` before the durable boundary, in the agent run, and pass '
        'what the code needs as a tool argument or inside `deps`.'
    )


def serialize_run_context(ctx: RunContext[Any], *, deps_type: Any) -> bytes:
    """Encode the fields of `ctx` a durable unit needs as JSON.

    The fields are [`CARRIED_RUN_CONTEXT_FIELDS`][durable_core.CARRIED_RUN_CONTEXT_FIELDS]. `deps` is encoded as
    `deps_type`, the agent's `deps_type`, so it decodes to an equal object.

    Args:
        ctx: The run context.
        deps_type: The agent's `deps_type`.

    Returns:
        The JSON, as bytes.

    Raises:
        UnserializableError: If `deps`, `metadata`, `tool_call_metadata` or `model_settings` cannot be carried as
            JSON. The message names the type and how to fix it.
    """
    require_json_native(ctx.metadata, 'RunContext.metadata')
    require_json_native(ctx.tool_call_metadata, 'RunContext.tool_call_metadata')
    if ctx.model_settings is not None:
        check_model_settings(cast(Mapping[str, Any], ctx.model_settings))
    try:
        payload_type = _payload_type(deps_type)
        payload = payload_type(**{name: getattr(ctx, name) for name in CARRIED_RUN_CONTEXT_FIELDS})
        return encode(payload, payload_type)
    except UnserializableError as error:
        try:
            encode(ctx.deps, deps_type)
        except UnserializableError as deps_error:
            raise UnserializableError(_unserializable_deps_message(ctx.deps, deps_type, deps_error)) from error
        raise


def deserialize_run_context(
    data: bytes | str,
    *,
    deps_type: Any,
    model: AbstractModel,
    local_fields: Mapping[str, Any] | None = None,
) -> DurableRunContext[Any]:
    """Rebuild a run context inside a durable unit from JSON written by `serialize_run_context`.

    Args:
        data: The JSON, as bytes or str.
        deps_type: The agent's `deps_type`, which `deps` is rebuilt as.
        model: The model the durable unit uses.
        local_fields: Values the unit has itself for fields that are not carried, such as `agent` or `tracer`.

    Returns:
        The context. Reading a public field that was neither carried nor given in `local_fields` raises
        `NotCarriedError`.

    Raises:
        DurableUsageError: If `local_fields` names a carried field or a field `RunContext` does not have.
    """
    local_fields = local_fields or {}
    if unknown := local_fields.keys() - _RUN_CONTEXT_PUBLIC_FIELDS:
        raise DurableUsageError(
            f'`local_fields` names {", ".join(sorted(unknown))}, which `RunContext` has no public field for.'
        )
    if overlap := local_fields.keys() & (CARRIED_RUN_CONTEXT_FIELDS | {'model'}):
        raise DurableUsageError(
            f'`local_fields` names {", ".join(sorted(overlap))}, which the payload or `model` already sets.'
        )
    payload = decode(data, _payload_type(deps_type))
    values: dict[str, Any] = {name: getattr(payload, name) for name in CARRIED_RUN_CONTEXT_FIELDS}
    values['model'] = model
    values.update(local_fields)
    for name in _RUN_CONTEXT_PUBLIC_FIELDS - values.keys():
        values[name] = _NOT_CARRIED
    return DurableRunContext(**values)


_PAYLOAD_TYPES: dict[Any, Any] = {}


def _payload_type(deps_type: Any) -> Any:
    try:
        return _PAYLOAD_TYPES[deps_type]
    except KeyError:
        payload_type = _PAYLOAD_TYPES[deps_type] = _RunContextPayload[deps_type]
        return payload_type
    except TypeError:  # an unhashable type expression
        return _RunContextPayload[deps_type]


def _unserializable_deps_message(deps: object, deps_type: Any, error: UnserializableError) -> str:
    type_name = getattr(deps_type, '__qualname__', None) or repr(deps_type)
    reason = unserializable_reason(error.__cause__ or error)
    return (
        f'The run context cannot cross the durable boundary: its deps, a `{type(deps).__qualname__}` declared as '
        f"`{type_name}`, cannot be encoded as JSON ({reason}). Make the agent's `deps_type` a dataclass or "
        'Pydantic model whose fields are JSON data (str, numbers, bools, lists, dicts, nested models), or pass a '
        'serializable handle, such as an ID or connection settings, and build the live object (client, '
        'connection, callback) inside the durable unit.'
    )
