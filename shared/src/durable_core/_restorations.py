"""What PydanticAI's JSON for a value loses, recorded next to it and restored on decode.

The codec (`_codec.py`) wraps the JSON of a value in `{"__restore__": {...}, "value": ...}` when decoding the JSON
alone would not rebuild it. Each restoration works around one loss in the JSON PydanticAI's types produce; each
is named at the place it is recorded, and `shared/tests/test_codec_upstream.py` checks the loss is still there.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections import abc
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, partial
from types import UnionType
from typing import Annotated, Any, ForwardRef, Literal, NotRequired, TypeVar, Union, cast, get_args, get_origin
from uuid import UUID

import pydantic
from pydantic import ConfigDict, TypeAdapter
from pydantic_ai.messages import BinaryAudio, BinaryContent, BinaryImage
from pydantic_ai.usage import RequestUsage, RunUsage
from typing_extensions import TypedDict, get_type_hints

from ._errors import UnserializableError

JSON_CONFIG = ConfigDict(ser_json_bytes='base64', val_json_bytes='base64', ser_json_inf_nan='constants')
"""The settings of every adapter the codec builds: `bytes` as base64, non-finite floats as `NaN`/`Infinity` tokens.

Upstream: `pydantic_ai.messages.ModelMessagesTypeAdapter` sets base64 bytes but not `ser_json_inf_nan`, so it
writes a non-finite float (in a tool's return content, say) as `null`, which comes back as `None`.
"""

RESTORE_KEY = '__restore__'
"""The key of the wrapper `{"__restore__": {...}, "value": ...}` around a value JSON alone would not rebuild.

Written only when needed, and first, so a decoder spots the wrapper from the leading bytes. It restores:

* `binary_classes`: PydanticAI's binary items share one JSON shape, and decoding picks `BinaryImage` for any
  image in a user prompt, tool result or file part and `BinaryContent` for speech audio, so a
  `BinaryContent` image or a `BinaryAudio` would come back as another class.
* `usage_attributes`: a usage keeps provider counts (`web_searches`, ...) as extra attributes, but Pydantic
  reuses the schema of its first occurrence for later ones without PydanticAI's hook that writes them, so a
  `ModelRequestAttempt.usage` in a response loses them.
* `loose_values`: a field typed `Any` (a tool's return content, metadata, deps typed `Any`) is written as JSON
  data, so a date would come back as a string, a tuple as a list and a dataclass as a dict. The codec records
  the Python type of each such value (a model or dataclass by its import path) and rebuilds it on decode.

`_collect` names the upstream behaviour behind each where it records it.
"""
RESTORE_PREFIX = b'{"' + RESTORE_KEY.encode() + b'":'

_BINARY_CLASSES: dict[str, type[BinaryContent]] = {
    'BinaryContent': BinaryContent,
    'BinaryImage': BinaryImage,
    'BinaryAudio': BinaryAudio,
}
_BINARY_CLASS_NAMES = {cls: name for name, cls in _BINARY_CLASSES.items()}

_PathStep = str | int
_Path = tuple[_PathStep, ...]
_BinaryClassName = Literal['BinaryContent', 'BinaryImage', 'BinaryAudio']


_LooseKind = Literal['datetime', 'date', 'time', 'timedelta', 'uuid', 'decimal', 'bytes', 'tuple', 'set', 'frozenset']


class Restorations(TypedDict):
    binary_classes: list[tuple[_Path, _BinaryClassName]]
    usage_attributes: list[tuple[_Path, dict[str, Any]]]
    loose_values: NotRequired[list[tuple[_Path, str]]]
    """Path and kind (a `_LooseKind`, or `module:qualname` of a model or dataclass), outermost first."""


Restorations.__pydantic_config__ = JSON_CONFIG  # pyright: ignore[reportAttributeAccessIssue]
RESTORATIONS_ADAPTER: TypeAdapter[Restorations] = TypeAdapter(Restorations)


@cache
def _usage_declared_names(usage_class: type[RequestUsage | RunUsage]) -> frozenset[str]:
    """The names a usage class declares; any other attribute of an instance is a provider count."""
    return frozenset(f.name for f in dataclasses.fields(usage_class)) | frozenset(dir(usage_class))


def collect_restorations(
    value: object, *, loose: bool = False, fields: frozenset[str] | None = None
) -> Restorations | None:
    """What decoding `value` from its JSON alone would not rebuild, or `None` if nothing."""
    loose_values: list[tuple[_Path, str]] = []
    restorations = Restorations(binary_classes=[], usage_attributes=[], loose_values=loose_values)
    _collect(value, (), restorations, loose, fields)
    if not loose_values:
        del restorations['loose_values']
    return restorations if any(restorations.values()) else None


_LOOSE_SCALARS: tuple[tuple[type, _LooseKind], ...] = (
    (datetime, 'datetime'),  # before `date`, its base class
    (date, 'date'),
    (time, 'time'),
    (timedelta, 'timedelta'),
    (UUID, 'uuid'),
    (Decimal, 'decimal'),
    (bytes, 'bytes'),
)

# What `_collect` does with a value, by its class: worked out once per class, as the walk visits every node of
# every value encoded (a run's result holds its whole message history).
_SCALAR, _BYTES, _BINARY, _USAGE, _SEQUENCE, _MAPPING, _OBJECT, _OTHER = range(8)
_SCALAR_BASES = (str, int, float)
_PLAIN_SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None)})
"""Classes of values that hold nothing to restore, loose or not: the walk does not even visit them."""


@dataclasses.dataclass(frozen=True, slots=True)
class _NodeInfo:
    kind: int
    plan: tuple[tuple[str, bool], ...] = ()
    """The fields to walk of a model or dataclass (`_walk_plan`)."""
    loose_scalar: _LooseKind | None = None
    """How a loose value of the class is recorded, if as a scalar."""
    loose_collection: bool = False
    """Whether a loose value of the class may be a plain collection (`_is_plain_collection` decides)."""
    class_path: str | None = None
    """`module:qualname` of a loose instance of the class, if importable by that path."""
    loose_recorded: bool = False
    """Whether a loose value of the class may be recorded (`_collect_loose`): JSON data (a dict, a list) is not."""


_NODE_INFO: dict[type, _NodeInfo] = {}


def _node_info(cls: type[Any]) -> _NodeInfo:
    info = _NODE_INFO.get(cls)
    if info is None:
        info = _NODE_INFO[cls] = _build_node_info(cls)
    return info


def _build_node_info(cls: type[Any]) -> _NodeInfo:
    loose_scalar: _LooseKind | None = next(
        (kind for scalar_type, kind in _LOOSE_SCALARS if issubclass(cls, scalar_type)), None
    )
    loose_collection = issubclass(cls, set | frozenset | tuple)
    class_path = _restorable_class_path_of(cls)
    loose_recorded = loose_scalar is not None or loose_collection or class_path is not None
    if cls is type(None) or issubclass(cls, _SCALAR_BASES):
        kind = _SCALAR
    elif issubclass(cls, bytes):
        kind = _BYTES
    elif issubclass(cls, BinaryContent):
        kind = _BINARY
    elif issubclass(cls, RequestUsage | RunUsage):
        kind = _USAGE
    elif issubclass(cls, list | tuple):
        kind = _SEQUENCE
    elif issubclass(cls, dict):
        kind = _MAPPING
    elif is_model_or_dataclass(cls):
        kind = _OBJECT
    else:
        kind = _OTHER
    plan = _walk_plan(cast(type, cls)) if kind == _OBJECT else ()
    return _NodeInfo(kind, plan, loose_scalar, loose_collection, class_path, loose_recorded)


def _collect(
    value: Any, path: _Path, restorations: Restorations, loose: bool = False, fields: frozenset[str] | None = None
) -> None:
    """Record what `value` at `path` needs restored; `loose` when the field holding it is typed `Any`.

    `fields` are the loose fields of `value` when the declared type says more than its class (a parametrized generic).
    """
    cls: type[Any] = value.__class__
    info = _NODE_INFO.get(cls) or _node_info(cls)
    kind = info.kind
    if kind == _SCALAR:
        return
    if loose:
        if info.loose_recorded and _collect_loose(value, info, path, restorations):
            return
    elif kind == _BYTES:
        return
    if kind == _BINARY:
        # Upstream: `ModelMessagesTypeAdapter` (and every PydanticAI type holding multimodal content) picks the
        # binary class from the JSON's media type and place, so a `BinaryContent` image in a user prompt comes
        # back as `BinaryImage` and a `BinaryAudio` as `BinaryContent`.
        if cls is BinaryContent and not value.is_image:
            return  # decodes as `BinaryContent` wherever it sits
        name = _BINARY_CLASS_NAMES.get(cls)
        if name is None:
            raise UnserializableError(
                f'`{cls.__qualname__}` is a subclass of `BinaryContent` the JSON codec cannot rebuild; '
                'use `BinaryContent`, `BinaryImage` or `BinaryAudio`.'
            )
        restorations['binary_classes'].append((path, cast(_BinaryClassName, name)))
    elif kind == _USAGE:
        # Upstream: `UsageBase.__get_pydantic_core_schema__` writes a usage's extra attributes (provider counts
        # like `web_searches`), but Pydantic reuses the schema of the first `RequestUsage` in a type for the later
        # ones without that hook, so `ModelResponse.failed_attempts[i].usage` comes back without them.
        attributes = cast(dict[str, Any], vars(value))
        declared = _usage_declared_names(cls)
        if not attributes.keys() <= declared:
            extra = {name: item for name, item in attributes.items() if name not in declared}
            restorations['usage_attributes'].append((path, extra))
    elif kind == _SEQUENCE:
        for index, item in enumerate(cast(list[object] | tuple[object, ...], value)):
            if type(item) not in _PLAIN_SCALARS:
                _collect(item, (*path, index), restorations, loose)
    elif kind == _MAPPING:
        for key, item in cast(dict[object, object], value).items():
            if isinstance(key, str) and type(item) not in _PLAIN_SCALARS:
                _collect(item, (*path, key), restorations, loose)
    elif kind == _OBJECT:
        # A parametrized generic's declared type says which of its fields are loose.
        plan = info.plan if fields is None else _generic_walk_plan(cls, fields)
        for name, is_loose in plan:
            item = getattr(value, name)
            if type(item) not in _PLAIN_SCALARS:
                _collect(item, (*path, name), restorations, is_loose)


def _collect_loose(value: Any, info: _NodeInfo, path: _Path, restorations: Restorations) -> bool:
    """Record a value in a field typed `Any` that JSON data would not rebuild; `True` if nothing is left to walk.

    Upstream: PydanticAI types content it cannot know as `Any` (`ToolReturnPart.content`, `metadata`,
    `provider_details`), so `ModelMessagesTypeAdapter` writes it as JSON data and reads back a tuple as a list, a
    datetime as a str and a dataclass as a dict.
    """
    loose_values = restorations['loose_values']  # pyright: ignore[reportTypedDictNotRequiredAccess]
    if info.loose_scalar is not None:
        loose_values.append((path, info.loose_scalar))
        return True
    if info.loose_collection and _is_plain_collection(value):
        items: list[Any] = list(value)
        kind = 'tuple' if isinstance(value, tuple) else 'set' if isinstance(value, set) else 'frozenset'
        loose_values.append((path, kind))
        # Pydantic writes a set's items in iteration order, so an item's index in the JSON list is its index here.
        for index, item in enumerate(items):
            _collect(item, (*path, index), restorations, loose=True)
        return True
    if info.class_path is not None:
        loose_values.append((path, info.class_path))  # then its fields are walked like any model's
    return False


def _is_plain_collection(value: Any) -> bool:
    """A tuple (not a named tuple), set or frozenset: JSON writes each as a list."""
    return isinstance(value, set | frozenset | tuple) and not hasattr(cast(object, value), '_fields')


@cache
def _field_hints(cls: type) -> dict[str, Any]:
    """The declared type of each field of a model or dataclass, in field order (`Any` where it cannot be resolved)."""
    some_class: Any = cls
    if issubclass(cls, pydantic.BaseModel):
        return {name: info.annotation for name, info in cls.model_fields.items()}
    try:
        hints = get_type_hints(cls, include_extras=True)
    except Exception:  # an unresolvable forward reference: treat every field as loose, which only costs a walk
        hints = {}
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(some_class)}


@cache
def loose_fields(cls: type, type_args: tuple[Any, ...] = ()) -> frozenset[str]:
    """The fields of a model or dataclass whose declared type lets any JSON through (`Any` somewhere in it).

    `type_args` are the arguments of a parametrized generic class, such as `(Invoice,)` for `AgentRunResult[Invoice]`:
    a field typed by a type variable is loose only where its argument is (or is not known).
    """
    type_vars: dict[Any, Any] = dict(zip(getattr(cls, '__parameters__', ()), type_args, strict=False))
    return frozenset(name for name, hint in _field_hints(cls).items() if admits_any(hint, set(), type_vars))


_INERT_TYPES: frozenset[Any] = frozenset({str, int, float, bool, bytes, type(None), datetime, date, time, timedelta})
_INERT_CONTAINERS: frozenset[Any] = frozenset(
    {list, tuple, set, frozenset, dict, abc.Sequence, abc.MutableSequence, abc.Set, abc.Mapping, abc.MutableMapping}
)


def _is_inert(hint: Any) -> bool:
    """Whether a field of this declared type only holds values its JSON rebuilds as they were (text, numbers, ...)."""
    if hint in _INERT_TYPES or hint is None:
        return True
    origin = get_origin(hint)
    if origin is Literal:
        return True
    if origin is Annotated:
        return _is_inert(get_args(hint)[0])
    if origin is Union or origin is UnionType:
        return all(_is_inert(arg) for arg in get_args(hint))
    if origin in _INERT_CONTAINERS:  # such as `set[str]`; a bare `list` may hold anything
        args = get_args(hint)
        return bool(args) and all(arg is Ellipsis or _is_inert(arg) for arg in args)
    return False


@cache
def _walk_plan(cls: type) -> tuple[tuple[str, bool], ...]:
    """The fields of a class to walk, each with whether it is loose: a field declared inert holds nothing to restore.

    Computed once per class: the walk runs on every encode, over every message of a run.
    """
    loose = loose_fields(cls)
    return tuple(
        (name, name in loose) for name, hint in _field_hints(cls).items() if name in loose or not _is_inert(hint)
    )


@cache
def _generic_walk_plan(cls: type, fields: frozenset[str]) -> tuple[tuple[str, bool], ...]:
    """`_walk_plan` for a parametrized generic class, whose loose `fields` its type arguments decide."""
    return tuple(
        (name, name in fields) for name, hint in _field_hints(cls).items() if name in fields or not _is_inert(hint)
    )


def admits_any(hint: Any, seen: set[int], type_vars: dict[Any, Any] | None = None) -> bool:
    if isinstance(hint, TypeVar):
        return type_vars is None or hint not in type_vars or admits_any(type_vars[hint], seen)
    if hint is Any or hint is object:
        return True
    if id(hint) in seen:
        return False
    seen.add(id(hint))
    value = getattr(hint, '__value__', None)  # a `type X = ...` alias
    if value is not None and type(hint).__name__ == 'TypeAliasType':
        return admits_any(value, seen, type_vars)
    origin = get_origin(hint)
    if origin is Annotated:
        return admits_any(get_args(hint)[0], seen, type_vars)
    if is_model_or_dataclass(origin):
        return False  # a parametrized class, such as `AgentRunResult[Any]`: its own fields say where `Any` is
    # A union, or a container (`list[Any]`, `dict[str, Any]`) whose items may be anything.
    return any(admits_any(arg, seen, type_vars) for arg in get_args(hint) if not isinstance(arg, str | ForwardRef))


def _restorable_class_path_of(cls: type[Any]) -> str | None:
    """`module:qualname` of a user's model or dataclass class, if importable by that path."""
    if not is_model_or_dataclass(cls):
        return None
    if cls.__module__.startswith('pydantic_ai.') or '<locals>' in cls.__qualname__:
        return None  # PydanticAI's own items are rebuilt by their declared types; a local class cannot be imported
    return f'{cls.__module__}:{cls.__qualname__}'


Rebuild = Callable[[type, Any], Any]
"""Rebuilds an instance of a model or dataclass from JSON data already parsed (the codec validates it)."""


def restore(root: Any, restorations: Restorations, rebuild: Rebuild) -> Any:
    """Apply recorded restorations to a decoded `root`, and return the new root."""
    # Innermost first, so a rebuilt tuple or model holds rebuilt items.
    for path, kind in reversed(restorations.get('loose_values', [])):
        root = _transform_at(root, path, partial(_as_loose_kind, kind, rebuild))
    for path, class_name in restorations['binary_classes']:
        root = _transform_at(root, path, partial(_as_binary_class, _BINARY_CLASSES[class_name]))
    for path, attributes in restorations['usage_attributes']:
        root = _transform_at(root, path, partial(_with_usage_attributes, attributes))
    return root


_LOOSE_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    'datetime': TypeAdapter(datetime),
    'date': TypeAdapter(date),
    'time': TypeAdapter(time),
    'timedelta': TypeAdapter(timedelta),
    'uuid': TypeAdapter(UUID),
    'decimal': TypeAdapter(Decimal),
    'bytes': TypeAdapter(bytes, config=JSON_CONFIG),
}


def _as_loose_kind(kind: str, rebuild: Rebuild, item: Any) -> Any:
    if kind == 'tuple':
        return tuple(cast(list[Any], item)) if isinstance(item, list) else item
    if kind in ('set', 'frozenset'):
        return (set if kind == 'set' else frozenset)(cast(list[Any], item)) if isinstance(item, list) else item
    adapter = _LOOSE_ADAPTERS.get(kind)
    if adapter is not None:
        return adapter.validate_json(json.dumps(item)) if isinstance(item, str) else item
    cls = _import_class(kind)
    if cls is None or not isinstance(item, dict):
        return item
    return rebuild(cls, item)


def is_model_or_dataclass(found: Any) -> bool:
    if not isinstance(found, type):
        return False
    return issubclass(found, pydantic.BaseModel) or dataclasses.is_dataclass(cast(Any, found))


@cache
def _import_class(class_path: str) -> type | None:
    """The model or dataclass at `module:qualname`, or `None` where this process has no such class."""
    module_name, _, qualname = class_path.partition(':')
    try:
        found: Any = importlib.import_module(module_name)
        for name in qualname.split('.'):
            found = getattr(found, name)
    except (ImportError, AttributeError):
        return None
    if is_model_or_dataclass(found):
        return cast(type, found)
    return None


def _as_binary_class(binary_class: type[BinaryContent], item: Any) -> Any:
    if not isinstance(item, BinaryContent) or type(item) is binary_class:
        return item
    return binary_class(
        data=item.data, media_type=item.media_type, vendor_metadata=item.vendor_metadata, identifier=item.identifier
    )


def _with_usage_attributes(attributes: dict[str, Any], usage: Any) -> Any:
    if isinstance(usage, RequestUsage | RunUsage):
        for name, item in attributes.items():
            setattr(usage, name, item)
    return usage


def _transform_at(container: Any, path: _Path, transform: Callable[[Any], Any]) -> Any:
    """`container` with the item at `path` replaced by `transform(item)`, changed in place where possible."""
    if not path:
        return transform(container)
    step, rest = path[0], path[1:]
    indexable = isinstance(container, dict | list | tuple)
    try:
        child: Any = cast(Any, container)[step] if indexable else getattr(container, cast(str, step))
    except (LookupError, AttributeError, TypeError):
        child = None  # another shape there, such as a dict in a field typed `Any`: nothing to restore
    new_child = child if child is None else _transform_at(child, rest, transform)
    if new_child is child:
        return container
    if isinstance(container, tuple):
        index = cast(int, step)
        items = cast(tuple[Any, ...], container)
        return (*items[:index], new_child, *items[index + 1 :])
    if indexable:
        cast(Any, container)[step] = new_child
    else:
        # Frozen dataclasses included: the decoded object is ours until `decode` returns it.
        object.__setattr__(container, cast(str, step), new_child)
    return container
