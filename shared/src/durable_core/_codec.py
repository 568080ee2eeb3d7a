"""The JSON codec for everything that crosses a durable boundary.

Every value is encoded as UTF-8 JSON by a Pydantic `TypeAdapter` for its declared type, never pickled, and
decodes to a value equal (`==`) to the one encoded. The JSON is what Pydantic writes for the type, with two
settings that keep values exact: `bytes` are base64, and non-finite floats are written as the `NaN`,
`Infinity` and `-Infinity` tokens Python's `json` module also reads and writes, instead of `null`.

What JSON cannot say, and what the codec does about it:

* A field typed `Any` (metadata, provider details, a tool's return content) holds JSON data, so a tuple comes
  back as a list and a datetime as a string, as when PydanticAI stores a message history itself.
* A sequence field comes back as a list.
* A Pydantic model or dataclass with a config of its own, like PydanticAI's multimodal items, keeps its own
  settings for bytes and non-finite floats.
* Where PydanticAI's own JSON loses something (the class of a binary item, a usage's provider counts in a
  failed attempt), the codec records it next to the value and restores it on decode (see `_RESTORE_KEY`).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache, partial
from types import GenericAlias
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ForwardRef,
    Generic,
    Literal,
    Never,
    NotRequired,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
    overload,
)
from uuid import UUID

import pydantic
import pydantic_core
from pydantic import ConfigDict, Discriminator, PlainSerializer, PlainValidator, Tag, TypeAdapter
from pydantic_ai import ApprovalRequired, CallDeferred, ModelRetry, ToolFailed
from pydantic_ai.messages import (
    BinaryAudio,
    BinaryContent,
    BinaryImage,
    ModelMessage,
    ModelResponse,
    ToolReturn,
    ToolReturnContent,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage, RunUsage
from typing_extensions import TypedDict, get_type_hints, is_typeddict

from ._errors import UnserializableError

__all__ = [
    'ToolApprovalRequired',
    'ToolCallDeferred',
    'ToolCallErrored',
    'ToolCallFailedError',
    'ToolFailureReported',
    'ToolOutcome',
    'ToolRetryRequested',
    'ToolReturned',
    'decode',
    'decode_messages',
    'decode_model_settings',
    'decode_request_parameters',
    'decode_response',
    'decode_tool_outcome',
    'encode',
    'encode_messages',
    'encode_model_settings',
    'encode_request_parameters',
    'encode_response',
    'encode_tool_outcome',
]

T = TypeVar('T')
OutcomeT_co = TypeVar('OutcomeT_co', covariant=True)

_JSON_CONFIG = ConfigDict(ser_json_bytes='base64', val_json_bytes='base64', ser_json_inf_nan='constants')

_SETTINGS_CONFIG: ConfigDict = {**_JSON_CONFIG, 'extra': 'allow'}

_JSON_FRIENDLY_HINT = (
    'Carry only JSON-friendly data across a durable boundary: str, numbers, bools, None, lists, dicts with str '
    'keys, and dataclasses, TypedDicts or Pydantic models made of them.'
)


# --- restorations --------------------------------------------------------------------------------------------

_RESTORE_KEY = '__restore__'
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
"""
_RESTORE_PREFIX = b'{"' + _RESTORE_KEY.encode() + b'":'

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


class _Restorations(TypedDict):
    binary_classes: list[tuple[_Path, _BinaryClassName]]
    usage_attributes: list[tuple[_Path, dict[str, Any]]]
    loose_values: NotRequired[list[tuple[_Path, str]]]
    """Path and kind (a `_LooseKind`, or `module:qualname` of a model or dataclass), outermost first."""


_Restorations.__pydantic_config__ = _JSON_CONFIG  # pyright: ignore[reportAttributeAccessIssue]
_RESTORATIONS_ADAPTER: TypeAdapter[_Restorations] = TypeAdapter(_Restorations)


@cache
def _usage_declared_names(usage_class: type[RequestUsage | RunUsage]) -> frozenset[str]:
    """The names a usage class declares; any other attribute of an instance is a provider count."""
    return frozenset(f.name for f in dataclasses.fields(usage_class)) | frozenset(dir(usage_class))


def _collect_restorations(
    value: object, *, loose: bool = False, fields: frozenset[str] | None = None
) -> _Restorations | None:
    """What decoding `value` from its JSON alone would not rebuild, or `None` if nothing."""
    loose_values: list[tuple[_Path, str]] = []
    restorations = _Restorations(binary_classes=[], usage_attributes=[], loose_values=loose_values)
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


def _loose_scalar_kind(value: object) -> _LooseKind | None:
    for scalar_type, kind in _LOOSE_SCALARS:
        if isinstance(value, scalar_type):
            return kind
    return None


def _collect(
    value: Any, path: _Path, restorations: _Restorations, loose: bool = False, fields: frozenset[str] | None = None
) -> None:
    """Record what `value` at `path` needs restored; `loose` when the field holding it is typed `Any`.

    `fields` are the loose fields of `value` when the declared type says more than its class (a parametrized generic).
    """
    if value is None or isinstance(value, str | int | float):
        return
    if loose:
        if _collect_loose(value, path, restorations):
            return
    elif isinstance(value, bytes):
        return
    if isinstance(value, BinaryContent):
        binary_class = type(value)
        if binary_class is BinaryContent and not value.is_image:
            return  # decodes as `BinaryContent` wherever it sits
        name = _BINARY_CLASS_NAMES.get(binary_class)
        if name is None:
            raise UnserializableError(
                f'`{binary_class.__qualname__}` is a subclass of `BinaryContent` the JSON codec cannot rebuild; '
                'use `BinaryContent`, `BinaryImage` or `BinaryAudio`.'
            )
        restorations['binary_classes'].append((path, cast(_BinaryClassName, name)))
    elif isinstance(value, RequestUsage | RunUsage):
        declared = _usage_declared_names(type(value))
        if extra := {name: item for name, item in vars(value).items() if name not in declared}:
            restorations['usage_attributes'].append((path, extra))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(cast(list[object] | tuple[object, ...], value)):
            _collect(item, (*path, index), restorations, loose)
    elif isinstance(value, dict):
        for key, item in cast(dict[object, object], value).items():
            if isinstance(key, str):
                _collect(item, (*path, key), restorations, loose)
    elif isinstance(value, pydantic.BaseModel):
        loose_fields = _loose_fields(type(value)) if fields is None else fields
        for name in type(value).model_fields:
            _collect(getattr(value, name), (*path, name), restorations, name in loose_fields)
    elif _is_dataclass_instance(value):
        loose_fields = _loose_fields(_class_of(value)) if fields is None else fields
        for dataclass_field in dataclasses.fields(value):
            name = dataclass_field.name
            _collect(getattr(value, name), (*path, name), restorations, name in loose_fields)


def _collect_loose(value: Any, path: _Path, restorations: _Restorations) -> bool:
    """Record a value in a field typed `Any` that JSON data would not rebuild; `True` if nothing is left to walk."""
    loose_values = restorations['loose_values']  # pyright: ignore[reportTypedDictNotRequiredAccess]
    if (kind := _loose_scalar_kind(value)) is not None:
        loose_values.append((path, kind))
        return True
    if _is_plain_collection(value):
        items: list[Any] = list(value)
        kind = 'tuple' if isinstance(value, tuple) else 'set' if isinstance(value, set) else 'frozenset'
        loose_values.append((path, kind))
        # Pydantic writes a set's items in iteration order, so an item's index in the JSON list is its index here.
        for index, item in enumerate(items):
            _collect(item, (*path, index), restorations, loose=True)
        return True
    if (class_path := _restorable_class_path(value)) is not None:
        loose_values.append((path, class_path))  # then its fields are walked like any model's
    return False


def _class_of(value: Any) -> type[Any]:
    return value.__class__


def _is_dataclass_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _is_plain_collection(value: Any) -> bool:
    """A tuple (not a named tuple), set or frozenset: JSON writes each as a list."""
    return isinstance(value, set | frozenset | tuple) and not hasattr(cast(object, value), '_fields')


@cache
def _loose_fields(cls: type, type_args: tuple[Any, ...] = ()) -> frozenset[str]:
    """The fields of a model or dataclass whose declared type lets any JSON through (`Any` somewhere in it).

    `type_args` are the arguments of a parametrized generic class, such as `(Invoice,)` for `AgentRunResult[Invoice]`:
    a field typed by a type variable is loose only where its argument is (or is not known).
    """
    type_vars: dict[Any, Any] = dict(zip(getattr(cls, '__parameters__', ()), type_args, strict=False))
    some_class: Any = cls
    if issubclass(cls, pydantic.BaseModel):
        hints: dict[str, Any] = {name: info.annotation for name, info in cls.model_fields.items()}
    else:
        try:
            hints = get_type_hints(cls, include_extras=True)
        except Exception:  # an unresolvable forward reference: treat every field as loose, which only costs a walk
            hints = {}
        hints = {f.name: hints.get(f.name, Any) for f in dataclasses.fields(some_class)}
    return frozenset(name for name, hint in hints.items() if _admits_any(hint, set(), type_vars))


def _admits_any(hint: Any, seen: set[int], type_vars: dict[Any, Any] | None = None) -> bool:
    if isinstance(hint, TypeVar):
        return type_vars is None or hint not in type_vars or _admits_any(type_vars[hint], seen)
    if hint is Any or hint is object:
        return True
    if id(hint) in seen:
        return False
    seen.add(id(hint))
    value = getattr(hint, '__value__', None)  # a `type X = ...` alias
    if value is not None and type(hint).__name__ == 'TypeAliasType':
        return _admits_any(value, seen, type_vars)
    origin = get_origin(hint)
    if origin is Annotated:
        return _admits_any(get_args(hint)[0], seen, type_vars)
    if _is_model_or_dataclass(origin):
        return False  # a parametrized class, such as `AgentRunResult[Any]`: its own fields say where `Any` is
    # A union, or a container (`list[Any]`, `dict[str, Any]`) whose items may be anything.
    return any(_admits_any(arg, seen, type_vars) for arg in get_args(hint) if not isinstance(arg, str | ForwardRef))


def _restorable_class_path(value: object) -> str | None:
    """`module:qualname` of a user's model or dataclass instance, if importable by that path."""
    cls = type(value)
    if not (isinstance(value, pydantic.BaseModel) or dataclasses.is_dataclass(value)):
        return None
    if cls.__module__.startswith('pydantic_ai.') or '<locals>' in cls.__qualname__:
        return None  # PydanticAI's own items are rebuilt by their declared types; a local class cannot be imported
    return f'{cls.__module__}:{cls.__qualname__}'


def _restore(root: Any, restorations: _Restorations) -> Any:
    """Apply recorded restorations to a decoded `root`, and return the new root."""
    # Innermost first, so a rebuilt tuple or model holds rebuilt items.
    for path, kind in reversed(restorations.get('loose_values', [])):
        root = _transform_at(root, path, partial(_as_loose_kind, kind))
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
    'bytes': TypeAdapter(bytes, config=_JSON_CONFIG),
}


def _as_loose_kind(kind: str, item: Any) -> Any:
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
    return _codec_for(cls).validate_python(item)


def _is_model_or_dataclass(found: Any) -> bool:
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
    if _is_model_or_dataclass(found):
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


# --- codecs --------------------------------------------------------------------------------------------------


def _typed_dict(name: str, fields: dict[str, Any], config: ConfigDict, *, total: bool = True) -> Any:
    """A TypedDict built at runtime, for types only known then; Pydantic reads its config from the class."""
    typed_dict_factory: Any = TypedDict
    typed_dict = typed_dict_factory(name, fields, total=total)
    typed_dict.__pydantic_config__ = config
    return typed_dict


def unserializable_reason(error: BaseException) -> str:
    """The first sentence of a Pydantic error: what failed, without advice that does not apply to JSON.

    Args:
        error: A Pydantic schema or serialization error.

    Returns:
        The sentence, without its final period.
    """
    return str(error).strip().split('. ', 1)[0].removesuffix('.')


def _type_name(type_: Any) -> str:
    return getattr(type_, '__qualname__', None) or repr(type_)


class _Codec:
    """A cached `TypeAdapter` for one type, writing and reading the codec's JSON."""

    __slots__ = ('_adapter', '_loose_root', '_restore_envelope', '_root_fields', '_type', '_walk', '_wrapped')

    def __init__(self, type_: Any) -> None:
        self._type = type_
        # JSON alone rebuilds a scalar; anything else may hold a value to restore.
        self._walk = type_ not in _SCALAR_TYPES
        self._loose_root = _admits_any(type_, set())
        origin = get_origin(type_)
        self._root_fields = _loose_fields(origin, get_args(type_)) if _is_model_or_dataclass(origin) else None
        self._restore_envelope: TypeAdapter[Any] | None = None
        try:
            self._adapter: TypeAdapter[Any] = TypeAdapter(type_, config=_JSON_CONFIG)
            self._wrapped = False
        except pydantic.PydanticUserError as error:
            if error.code != 'type-adapter-config-unused':
                raise
            # Dataclasses and TypedDicts refuse a `TypeAdapter` config; inside a one-item tuple they inherit it.
            one_item_tuple: Any = GenericAlias(tuple, (type_,))
            self._adapter = TypeAdapter(one_item_tuple, config=_JSON_CONFIG)
            self._wrapped = True

    def encode(self, value: Any) -> bytes:
        try:
            if self._wrapped:
                body = self._adapter.dump_json((value,), warnings='error')[1:-1]
            else:
                body = self._adapter.dump_json(value, warnings='error')
        except pydantic_core.PydanticSerializationError as error:
            raise UnserializableError(
                f'A `{type(value).__qualname__}` value could not be encoded as JSON for `{_type_name(self._type)}`: '
                f'{unserializable_reason(error)}. {_JSON_FRIENDLY_HINT}'
            ) from error
        if self._walk and (
            restorations := _collect_restorations(value, loose=self._loose_root, fields=self._root_fields)
        ):
            return b''.join((_RESTORE_PREFIX, _RESTORATIONS_ADAPTER.dump_json(restorations), b',"value":', body, b'}'))
        return body

    def decode(self, data: bytes | str) -> Any:
        raw = data.encode() if isinstance(data, str) else data
        if raw.startswith(_RESTORE_PREFIX):
            envelope = self._restore_envelope_adapter().validate_json(raw)
            return _restore(envelope['value'], envelope[_RESTORE_KEY])
        if self._wrapped:
            return self._adapter.validate_json(b'[' + raw + b']')[0]
        return self._adapter.validate_json(raw)

    def validate_python(self, value: Any) -> Any:
        """The value of the type rebuilt from JSON data already parsed (dicts, lists, strings)."""
        if self._wrapped:
            return self._adapter.validate_python((value,))[0]
        return self._adapter.validate_python(value)

    def _restore_envelope_adapter(self) -> TypeAdapter[Any]:
        if self._restore_envelope is None:
            envelope_fields = {_RESTORE_KEY: _Restorations, 'value': self._type}
            self._restore_envelope = TypeAdapter(_typed_dict('RestoreEnvelope', envelope_fields, _JSON_CONFIG))
        return self._restore_envelope


_SCALAR_TYPES: frozenset[Any] = frozenset({str, int, float, bool, type(None), bytes})

_CODECS: dict[Any, _Codec] = {}


def _codec_for(type_: Any) -> _Codec:
    """The codec for `type_`, built once: building a `TypeAdapter` costs far more than using one."""
    try:
        return _CODECS[type_]
    except KeyError:
        pass
    except TypeError:  # an unhashable type expression, such as `Annotated` with a dict in its metadata
        return _build_codec(type_)
    codec = _CODECS[type_] = _build_codec(type_)
    return codec


def _build_codec(type_: Any) -> _Codec:
    if _is_model_settings_type(type_):
        return _ModelSettingsCodec(type_)
    try:
        return _Codec(type_)
    except pydantic.PydanticSchemaGenerationError as error:
        raise UnserializableError(
            f'`{_type_name(type_)}` cannot be encoded as JSON: {unserializable_reason(error)}. {_JSON_FRIENDLY_HINT}'
        ) from error


@overload
def encode(value: T, type_: type[T]) -> bytes: ...


@overload
def encode(value: Any, type_: Any) -> bytes: ...


def encode(value: Any, type_: Any) -> bytes:
    """Encode `value` as UTF-8 JSON, as the type `type_` declares it.

    Args:
        value: The value to encode.
        type_: The type the value is declared as, such as `list[ModelMessage]`, `ToolDefinition` or `RunUsage`.
            The decoder is given the same type.

    Returns:
        The JSON, as bytes.

    Raises:
        UnserializableError: If `type_` has no JSON schema or the value cannot be written as JSON.
    """
    return _codec_for(type_).encode(value)


@overload
def decode(data: bytes | str, type_: type[T]) -> T: ...


@overload
def decode(data: bytes | str, type_: Any) -> Any: ...


def decode(data: bytes | str, type_: Any) -> Any:
    """Decode JSON written by [`encode`][durable_core.encode] for the same type.

    Args:
        data: The JSON, as bytes or str.
        type_: The type the value was encoded as.

    Returns:
        A value equal to the one encoded.

    Raises:
        pydantic.ValidationError: If the JSON does not hold a value of `type_`.
        UnserializableError: If `type_` has no JSON schema.
    """
    return _codec_for(type_).decode(data)


# --- messages and responses ----------------------------------------------------------------------------------


def encode_messages(messages: list[ModelMessage]) -> bytes:
    """Encode a message history as JSON.

    Unless something needs restoring (see the module docs) or a float is not finite, the JSON is what
    `pydantic_ai.messages.ModelMessagesTypeAdapter` writes, and either reads the other's.

    Args:
        messages: The messages, with every request and response part type.

    Returns:
        The JSON, as bytes.

    Raises:
        UnserializableError: If a part holds a value that cannot be written as JSON.
    """
    return _codec_for(list[ModelMessage]).encode(messages)


def decode_messages(data: bytes | str) -> list[ModelMessage]:
    """Decode a message history written by [`encode_messages`][durable_core.encode_messages].

    Args:
        data: The JSON, as bytes or str.

    Returns:
        Messages equal to the ones encoded.
    """
    return cast(list[ModelMessage], _codec_for(list[ModelMessage]).decode(data))


def encode_response(response: ModelResponse) -> bytes:
    """Encode one model response as JSON.

    Args:
        response: The response.

    Returns:
        The JSON, as bytes.

    Raises:
        UnserializableError: If a part holds a value that cannot be written as JSON.
    """
    return _codec_for(ModelResponse).encode(response)


def decode_response(data: bytes | str) -> ModelResponse:
    """Decode a model response written by [`encode_response`][durable_core.encode_response].

    Args:
        data: The JSON, as bytes or str.

    Returns:
        A response equal to the one encoded.
    """
    return cast(ModelResponse, _codec_for(ModelResponse).decode(data))


# --- model settings and request parameters -------------------------------------------------------------------

try:
    import httpx
except ImportError:  # pragma: no cover - `httpx` is optional for PydanticAI, which then takes no `Timeout`
    httpx = None


def _httpx_timeout_from_json(value: object) -> object:
    assert httpx is not None
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, dict):
        return httpx.Timeout(**cast(dict[str, Any], value))
    raise ValueError('expected an `httpx.Timeout` written as a mapping of connect, read, write and pool seconds')


def _httpx_timeout_to_json(value: Any) -> dict[str, float | None]:
    return cast(dict[str, float | None], value.as_dict())


def _json_friendly_hint(hint: Any) -> Any:
    """`hint` with an `httpx.Timeout` member written as its four timeouts, which it has no schema for."""
    if httpx is None or httpx.Timeout not in get_args(hint):
        return hint
    timeout_as_json = Annotated[
        httpx.Timeout,
        PlainValidator(_httpx_timeout_from_json),
        PlainSerializer(_httpx_timeout_to_json, return_type=dict[str, float | None]),
    ]
    return Union[tuple(timeout_as_json if arg is httpx.Timeout else arg for arg in get_args(hint))]  # noqa: UP007


def _is_model_settings_type(type_: Any) -> bool:
    return is_typeddict(type_) and ModelSettings.__annotations__.keys() <= type_.__annotations__.keys()


def _settings_wire_type(settings_type: Any, *, probe_fields: bool = False) -> tuple[Any, frozenset[str]]:
    """A TypedDict that encodes `settings_type`, and the keys whose declared type it decodes them to.

    Settings are a TypedDict Pydantic cannot take as it is: `timeout` may hold an `httpx.Timeout`, and a
    provider's settings (`openai_...`) are keys the base `ModelSettings` does not declare, which Pydantic would
    drop. The copy writes the timeout as a mapping and keeps undeclared keys as JSON data. With
    `probe_fields`, a declared type Pydantic has no schema for is kept as JSON data too.
    """
    try:
        hints = get_type_hints(settings_type)
    except Exception:  # a provider TypedDict naming SDK types only imported for type checking
        hints = get_type_hints(ModelSettings)
    wire_fields: dict[str, Any] = {}
    loose_keys: set[str] = set()
    for name, hint in hints.items():
        wire_hint = _json_friendly_hint(hint)
        if wire_hint is object or wire_hint is Any:
            loose_keys.add(name)
        elif probe_fields:
            try:
                TypeAdapter(wire_hint)
            except pydantic.PydanticSchemaGenerationError:
                wire_hint = Any
                loose_keys.add(name)
        wire_fields[name] = wire_hint
    wire_type = _typed_dict(f'{_type_name(settings_type)}JSON', wire_fields, _SETTINGS_CONFIG, total=False)
    return wire_type, frozenset(hints.keys() - loose_keys)


_MODEL_SETTINGS_WIRE_TYPE, _MODEL_SETTINGS_TYPED_KEYS = _settings_wire_type(ModelSettings)

if TYPE_CHECKING:
    ModelSettingsJSON = ModelSettings
else:
    ModelSettingsJSON = _MODEL_SETTINGS_WIRE_TYPE
"""The type that encodes `ModelSettings` inside another type, such as a run context's."""


class _ModelSettingsCodec(_Codec):
    """Encodes a `ModelSettings` TypedDict, including the keys of provider settings it does not declare."""

    __slots__ = ('_typed_keys',)

    def __init__(self, settings_type: Any) -> None:
        wire_type, self._typed_keys = _settings_wire_type(settings_type)
        try:
            super().__init__(wire_type)
        except pydantic.PydanticSchemaGenerationError:  # a provider setting typed with an SDK class
            wire_type, self._typed_keys = _settings_wire_type(settings_type, probe_fields=True)
            super().__init__(wire_type)

    def encode(self, value: Any) -> bytes:
        check_model_settings(value, self._typed_keys)
        return super().encode(value)


def check_model_settings(settings: Mapping[str, Any], typed_keys: frozenset[str] | None = None) -> None:
    """Check that the settings keys not decoded to a declared type hold JSON data.

    Args:
        settings: The model settings.
        typed_keys: The keys decoded to their declared type; those of `ModelSettings` when left out.

    Raises:
        UnserializableError: If such a key holds something other than JSON data.
    """
    if typed_keys is None:
        typed_keys = _MODEL_SETTINGS_TYPED_KEYS
    for key, item in settings.items():
        if key not in typed_keys:
            require_json_native(item, f'ModelSettings[{key!r}]')


def require_json_native(value: object, where: str) -> None:
    """Check that `value`, held in a field typed `Any`, is JSON data that decodes back equal to itself.

    Args:
        value: The value.
        where: What holds the value, for the error message, like `"RunContext.metadata"`.

    Raises:
        UnserializableError: If the value, or anything inside it, is not a str, number, bool, None, list, or dict
            with str keys.
    """
    if value is None or isinstance(value, str | int | float):
        return
    if isinstance(value, list):
        for index, item in enumerate(cast(list[object], value)):
            require_json_native(item, f'{where}[{index}]')
        return
    if isinstance(value, dict):
        for key, item in cast(dict[object, object], value).items():
            if not isinstance(key, str):
                raise UnserializableError(
                    f'{where} has the key {key!r} of type `{type(key).__qualname__}`, which JSON turns into a str. '
                    'Use str keys.'
                )
            require_json_native(item, f'{where}[{key!r}]')
        return
    raise UnserializableError(
        f'{where} holds a `{type(value).__qualname__}`, which JSON cannot carry exactly. Use str, numbers, bools, '
        'None, lists and dicts with str keys there, or convert the value yourself.'
    )


def encode_model_settings(settings: ModelSettings, settings_type: Any = ModelSettings) -> bytes:
    """Encode model settings as JSON.

    Keys `settings_type` does not declare, such as a provider's `openai_...` settings when it is the base
    `ModelSettings`, are kept when they hold JSON data. An `httpx.Timeout` in `timeout` is written as its four
    timeouts.

    Args:
        settings: The settings.
        settings_type: The `ModelSettings` TypedDict, or a provider's subclass of it, whose keys are decoded to
            their declared types.

    Returns:
        The JSON, as bytes.

    Raises:
        UnserializableError: If an undeclared key holds something other than JSON data.
    """
    return _codec_for(settings_type).encode(settings)


def decode_model_settings(data: bytes | str, settings_type: Any = ModelSettings) -> ModelSettings:
    """Decode model settings written by [`encode_model_settings`][durable_core.encode_model_settings].

    Args:
        data: The JSON, as bytes or str.
        settings_type: The settings type they were encoded with.

    Returns:
        Settings equal to the ones encoded.
    """
    return cast(ModelSettings, _codec_for(settings_type).decode(data))


def encode_request_parameters(parameters: ModelRequestParameters) -> bytes:
    """Encode the parameters of a model request (tools, native tools, output mode) as JSON.

    Args:
        parameters: The parameters.

    Returns:
        The JSON, as bytes.
    """
    return _codec_for(ModelRequestParameters).encode(parameters)


def decode_request_parameters(data: bytes | str) -> ModelRequestParameters:
    """Decode request parameters written by [`encode_request_parameters`][durable_core.encode_request_parameters].

    Args:
        data: The JSON, as bytes or str.

    Returns:
        Parameters equal to the ones encoded.
    """
    return cast(ModelRequestParameters, _codec_for(ModelRequestParameters).decode(data))


# --- tool call outcomes --------------------------------------------------------------------------------------


class ToolCallFailedError(Exception):
    """A tool call raised an exception inside a durable unit; raised again where its outcome is unwrapped.

    The original exception object cannot cross the boundary, so this carries its type name and message.
    """

    error_type: str
    """The qualified name of the exception's type, like `ValueError` or `httpx.ConnectError`."""

    message: str
    """The exception's message, `str(exception)`."""

    def __init__(self, error_type: str, message: str) -> None:
        self.error_type = error_type
        self.message = message
        detail = f'{error_type}: {message}' if message else error_type
        super().__init__(f'The tool call raised {detail} inside the durable unit')

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.error_type, self.message)


class ToolOutcome(ABC, Generic[OutcomeT_co]):
    """How a tool call ended, as data that can cross a durable boundary.

    A durable unit runs the call with [`capture`][durable_core.ToolOutcome.capture], which turns the
    exceptions PydanticAI treats as control flow into data; the caller gets the value back, or the equivalent
    exception, with [`unwrap`][durable_core.ToolOutcome.unwrap]. One of:

    * [`ToolReturned`][durable_core.ToolReturned]: the tool returned a value.
    * [`ToolRetryRequested`][durable_core.ToolRetryRequested]: it raised `ModelRetry`.
    * [`ToolFailureReported`][durable_core.ToolFailureReported]: it raised `ToolFailed`.
    * [`ToolApprovalRequired`][durable_core.ToolApprovalRequired]: it raised `ApprovalRequired`.
    * [`ToolCallDeferred`][durable_core.ToolCallDeferred]: it raised `CallDeferred`.
    * [`ToolCallErrored`][durable_core.ToolCallErrored]: it raised any other exception.
    """

    @staticmethod
    async def capture(call: Awaitable[T], *, capture_failures: bool = True) -> ToolOutcome[T]:
        """Await a tool call and return how it ended.

        Args:
            call: The tool call, such as `toolset.call_tool(name, args, ctx, tool)`.
            capture_failures: Whether an exception other than PydanticAI's control-flow ones becomes a
                [`ToolCallErrored`][durable_core.ToolCallErrored]. Pass `False` to let it propagate, so the
                engine's retry policy sees it.

        Returns:
            The outcome.
        """
        try:
            value = await call
        except (ModelRetry, ToolFailed, ApprovalRequired, CallDeferred) as control_flow:
            return ToolOutcome.from_exception(control_flow)
        except Exception as error:
            if not capture_failures:
                raise
            return ToolOutcome.from_exception(error)
        return ToolReturned(value)

    @staticmethod
    def from_exception(error: Exception) -> ToolOutcome[Never]:
        """The outcome of a tool call that raised `error`.

        Args:
            error: The exception the call raised.

        Returns:
            The outcome that raises the equivalent exception when unwrapped.
        """
        if isinstance(error, ModelRetry):
            return ToolRetryRequested(error.message)
        if isinstance(error, ToolFailed):
            return ToolFailureReported(error.message)
        if isinstance(error, ApprovalRequired):
            return ToolApprovalRequired(error.metadata)
        if isinstance(error, CallDeferred):
            return ToolCallDeferred(error.metadata, kind=error.kind)
        error_class = type(error)
        error_type = error_class.__qualname__
        if error_class.__module__ != 'builtins':
            error_type = f'{error_class.__module__}.{error_type}'
        return ToolCallErrored(error_type=error_type, message=str(error))

    @abstractmethod
    def unwrap(self) -> OutcomeT_co:
        """Return the value the tool returned, or raise the exception equivalent to the one it raised.

        Returns:
            The tool's return value.
        """


@dataclass(frozen=True)
class ToolReturned(ToolOutcome[OutcomeT_co]):
    """The tool returned a value."""

    value: OutcomeT_co
    """The return value."""

    outcome: Literal['returned'] = field(default='returned', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> OutcomeT_co:
        """Return the value.

        Returns:
            The tool's return value.
        """
        return self.value


@dataclass(frozen=True)
class ToolRetryRequested(ToolOutcome[Never]):
    """The tool raised `ModelRetry`: the model should call it again."""

    message: str
    """The message for the model."""

    outcome: Literal['retry'] = field(default='retry', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `ModelRetry` with the message.

        Raises:
            ModelRetry: Always.
        """
        raise ModelRetry(self.message)


@dataclass(frozen=True)
class ToolFailureReported(ToolOutcome[Never]):
    """The tool raised `ToolFailed`: a terminal failure the model sees."""

    message: str
    """The failure message for the model."""

    outcome: Literal['tool-failed'] = field(default='tool-failed', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `ToolFailed` with the message.

        Raises:
            ToolFailed: Always.
        """
        raise ToolFailed(self.message)


@dataclass(frozen=True)
class ToolApprovalRequired(ToolOutcome[Never]):
    """The tool raised `ApprovalRequired`: the call waits for a human's approval."""

    metadata: dict[str, Any] | None = None
    """The metadata the exception carried, for `DeferredToolRequests.metadata`."""

    outcome: Literal['approval-required'] = field(default='approval-required', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `ApprovalRequired` with the metadata.

        Raises:
            ApprovalRequired: Always.
        """
        raise ApprovalRequired(self.metadata)


@dataclass(frozen=True)
class ToolCallDeferred(ToolOutcome[Never]):
    """The tool raised `CallDeferred`: its result is produced outside the run."""

    metadata: dict[str, Any] | None = None
    """The metadata the exception carried, for `DeferredToolRequests.metadata`."""

    kind: Literal['external', 'question'] = 'external'
    """`'question'` when the call asks for content, such as an answer from the user."""

    outcome: Literal['deferred'] = field(default='deferred', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise `CallDeferred` with the metadata and kind.

        Raises:
            CallDeferred: Always.
        """
        raise CallDeferred(self.metadata, kind=self.kind)


@dataclass(frozen=True, kw_only=True)
class ToolCallErrored(ToolOutcome[Never]):
    """The tool raised another exception, kept as its type name and message."""

    error_type: str
    """The qualified name of the exception's type, like `ValueError` or `httpx.ConnectError`."""

    message: str
    """The exception's message."""

    outcome: Literal['errored'] = field(default='errored', init=False)
    """Tags the outcome in JSON."""

    def unwrap(self) -> Never:
        """Raise [`ToolCallFailedError`][durable_core.ToolCallFailedError] naming the exception.

        Raises:
            ToolCallFailedError: Always.
        """
        raise ToolCallFailedError(self.error_type, self.message)


def _tool_value_tag(value: Any) -> str:
    if isinstance(value, ToolReturn):
        return 'tool-return'
    if isinstance(value, Mapping):
        mapping = cast(Mapping[str, Any], value)
        if mapping.get('kind') == 'tool-return' and 'return_value' in mapping:
            return 'tool-return'
    return 'content'


_DefaultToolValue = Annotated[
    Annotated[ToolReturn[Any], Tag('tool-return')] | Annotated[ToolReturnContent, Tag('content')],
    Discriminator(_tool_value_tag),
]
"""What a tool returns when its return type is not given: a `ToolReturn`, or content as PydanticAI reads it.

Content keeps PydanticAI's multimodal items (`BinaryContent`, `ImageUrl`, ...) anywhere in lists and dicts,
and everything else as JSON data.
"""

_OUTCOME_CODECS: dict[Any, _Codec] = {}


def _outcome_codec(value_type: Any) -> _Codec:
    try:
        return _OUTCOME_CODECS[value_type]
    except KeyError:
        pass
    outcome_union = Annotated[
        ToolReturned[value_type]  # pyright: ignore[reportInvalidTypeArguments]
        | ToolRetryRequested
        | ToolFailureReported
        | ToolApprovalRequired
        | ToolCallDeferred
        | ToolCallErrored,
        Discriminator('outcome'),
    ]
    codec = _OUTCOME_CODECS[value_type] = _codec_for(outcome_union)
    return codec


def encode_tool_outcome(outcome: ToolOutcome[Any], value_type: Any = _DefaultToolValue) -> bytes:
    """Encode how a tool call ended as JSON.

    Args:
        outcome: The outcome.
        value_type: The tool's return type. Left out, a `ToolReturn` and PydanticAI's multimodal items are kept,
            and everything else crosses as JSON data, such as a dict in place of a dataclass.

    Returns:
        The JSON, as bytes.

    Raises:
        UnserializableError: If the return value cannot be written as JSON.
    """
    return _outcome_codec(value_type).encode(outcome)


def decode_tool_outcome(data: bytes | str, value_type: Any = _DefaultToolValue) -> ToolOutcome[Any]:
    """Decode a tool call outcome written by [`encode_tool_outcome`][durable_core.encode_tool_outcome].

    Args:
        data: The JSON, as bytes or str.
        value_type: The return type it was encoded with.

    Returns:
        An outcome equal to the one encoded.
    """
    return cast(ToolOutcome[Any], _outcome_codec(value_type).decode(data))
