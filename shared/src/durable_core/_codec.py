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
  failed attempt), the codec records it next to the value and restores it on decode (see `_restorations.py`).

Model settings and request parameters have their codec in `_settings_codec.py`, tool call outcomes theirs in
`_tool_outcomes.py`.
"""

from __future__ import annotations

from types import GenericAlias
from typing import Any, TypeVar, cast, get_args, get_origin, overload

import pydantic
import pydantic_core
from pydantic import ConfigDict, TypeAdapter
from pydantic_ai.messages import ModelMessage, ModelResponse
from typing_extensions import TypedDict

from ._errors import UnserializableError
from ._restorations import (
    JSON_CONFIG,
    RESTORATIONS_ADAPTER,
    RESTORE_KEY,
    RESTORE_PREFIX,
    Restorations,
    admits_any,
    collect_restorations,
    is_model_or_dataclass,
    loose_fields,
    restore,
)

__all__ = [
    'Codec',
    'codec_for',
    'decode',
    'decode_messages',
    'decode_response',
    'encode',
    'encode_messages',
    'encode_response',
    'type_name',
    'typed_dict',
    'unserializable_reason',
]

T = TypeVar('T')

_JSON_FRIENDLY_HINT = (
    'Carry only JSON-friendly data across a durable boundary: str, numbers, bools, None, lists, dicts with str '
    'keys, and dataclasses, TypedDicts or Pydantic models made of them.'
)


def typed_dict(name: str, fields: dict[str, Any], config: ConfigDict, *, total: bool = True) -> Any:
    """A TypedDict built at runtime, for types only known then; Pydantic reads its config from the class."""
    typed_dict_factory: Any = TypedDict
    built = typed_dict_factory(name, fields, total=total)
    built.__pydantic_config__ = config
    return built


def unserializable_reason(error: BaseException) -> str:
    """The first sentence of a Pydantic error: what failed, without advice that does not apply to JSON.

    Args:
        error: A Pydantic schema or serialization error.

    Returns:
        The sentence, without its final period.
    """
    return str(error).strip().split('. ', 1)[0].removesuffix('.')


def type_name(type_: Any) -> str:
    """The name of `type_` for an error message."""
    return getattr(type_, '__qualname__', None) or repr(type_)


class Codec:
    """A cached `TypeAdapter` for one type, writing and reading the codec's JSON."""

    __slots__ = ('_adapter', '_loose_root', '_restore_envelope', '_root_fields', '_type', '_walk', '_wrapped')

    def __init__(self, type_: Any) -> None:
        self._type = type_
        # JSON alone rebuilds a scalar; anything else may hold a value to restore.
        self._walk = type_ not in _SCALAR_TYPES
        self._loose_root = admits_any(type_, set())
        origin = get_origin(type_)
        self._root_fields = loose_fields(origin, get_args(type_)) if is_model_or_dataclass(origin) else None
        self._restore_envelope: TypeAdapter[Any] | None = None
        try:
            self._adapter: TypeAdapter[Any] = TypeAdapter(type_, config=JSON_CONFIG)
            self._wrapped = False
        except pydantic.PydanticUserError as error:
            if error.code != 'type-adapter-config-unused':
                raise
            # Dataclasses and TypedDicts refuse a `TypeAdapter` config; inside a one-item tuple they inherit it.
            one_item_tuple: Any = GenericAlias(tuple, (type_,))
            self._adapter = TypeAdapter(one_item_tuple, config=JSON_CONFIG)
            self._wrapped = True

    def encode(self, value: Any) -> bytes:
        try:
            if self._wrapped:
                body = self._adapter.dump_json((value,), warnings='error')[1:-1]
            else:
                body = self._adapter.dump_json(value, warnings='error')
        except pydantic_core.PydanticSerializationError as error:
            raise UnserializableError(
                f'A `{type(value).__qualname__}` value could not be encoded as JSON for `{type_name(self._type)}`: '
                f'{unserializable_reason(error)}. {_JSON_FRIENDLY_HINT}'
            ) from error
        if self._walk and (
            restorations := collect_restorations(value, loose=self._loose_root, fields=self._root_fields)
        ):
            return b''.join((RESTORE_PREFIX, RESTORATIONS_ADAPTER.dump_json(restorations), b',"value":', body, b'}'))
        return body

    def decode(self, data: bytes | str) -> Any:
        raw = data.encode() if isinstance(data, str) else data
        if raw.startswith(RESTORE_PREFIX):
            envelope = self._restore_envelope_adapter().validate_json(raw)
            return restore(envelope['value'], envelope[RESTORE_KEY], _rebuild)
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
            envelope_fields = {RESTORE_KEY: Restorations, 'value': self._type}
            self._restore_envelope = TypeAdapter(typed_dict('RestoreEnvelope', envelope_fields, JSON_CONFIG))
        return self._restore_envelope


_SCALAR_TYPES: frozenset[Any] = frozenset({str, int, float, bool, type(None), bytes})

_CODECS: dict[Any, Codec] = {}


def codec_for(type_: Any) -> Codec:
    """The codec for `type_`, built once: building a `TypeAdapter` costs far more than using one."""
    try:
        return _CODECS[type_]
    except KeyError:
        pass
    except TypeError:  # an unhashable type expression, such as `Annotated` with a dict in its metadata
        return _build_codec(type_)
    codec = _CODECS[type_] = _build_codec(type_)
    return codec


def _rebuild(cls: type, data: Any) -> Any:
    return codec_for(cls).validate_python(data)


def _build_codec(type_: Any) -> Codec:
    from ._settings_codec import ModelSettingsCodec, is_model_settings_type  # it subclasses `Codec`

    if is_model_settings_type(type_):
        return ModelSettingsCodec(type_)
    try:
        return Codec(type_)
    except pydantic.PydanticSchemaGenerationError as error:
        raise UnserializableError(
            f'`{type_name(type_)}` cannot be encoded as JSON: {unserializable_reason(error)}. {_JSON_FRIENDLY_HINT}'
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
    return codec_for(type_).encode(value)


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
    return codec_for(type_).decode(data)


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
    return codec_for(list[ModelMessage]).encode(messages)


def decode_messages(data: bytes | str) -> list[ModelMessage]:
    """Decode a message history written by [`encode_messages`][durable_core.encode_messages].

    Args:
        data: The JSON, as bytes or str.

    Returns:
        Messages equal to the ones encoded.
    """
    return cast(list[ModelMessage], codec_for(list[ModelMessage]).decode(data))


def encode_response(response: ModelResponse) -> bytes:
    """Encode one model response as JSON.

    Args:
        response: The response.

    Returns:
        The JSON, as bytes.

    Raises:
        UnserializableError: If a part holds a value that cannot be written as JSON.
    """
    return codec_for(ModelResponse).encode(response)


def decode_response(data: bytes | str) -> ModelResponse:
    """Decode a model response written by `encode_response`.

    Args:
        data: The JSON, as bytes or str.

    Returns:
        A response equal to the one encoded.
    """
    return cast(ModelResponse, codec_for(ModelResponse).decode(data))
