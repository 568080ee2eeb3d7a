"""The codec for model settings and the parameters of a model request.

Model settings are a TypedDict Pydantic cannot take as PydanticAI declares it (see `_settings_wire_type`), so
they are encoded through a copy of their type that can; request parameters are a plain dataclass and use the
core codec as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Union, cast, get_args

import pydantic
from pydantic import ConfigDict, PlainSerializer, PlainValidator, TypeAdapter
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.settings import ModelSettings
from typing_extensions import get_type_hints, is_typeddict

from ._codec import Codec, codec_for, type_name, typed_dict
from ._errors import UnserializableError
from ._restorations import JSON_CONFIG

__all__ = [
    'ModelSettingsCodec',
    'ModelSettingsJSON',
    'check_model_settings',
    'decode_model_settings',
    'decode_request_parameters',
    'encode_model_settings',
    'encode_request_parameters',
    'is_model_settings_type',
    'require_json_native',
]

_SETTINGS_CONFIG: ConfigDict = {**JSON_CONFIG, 'extra': 'allow'}
"""The config of a settings wire type. Upstream: `ModelSettings` sets no `extra='allow'`, so Pydantic drops keys it
does not declare, such as a provider's `openai_...` settings."""


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
    """`hint` with an `httpx.Timeout` member written as its four timeouts.

    Upstream: `ModelSettings.timeout` is typed `float | httpx.Timeout`, and Pydantic has no schema for
    `httpx.Timeout`, so `TypeAdapter(ModelSettings)` cannot be built.
    """
    if httpx is None or httpx.Timeout not in get_args(hint):
        return hint
    timeout_as_json = Annotated[
        httpx.Timeout,
        PlainValidator(_httpx_timeout_from_json),
        PlainSerializer(_httpx_timeout_to_json, return_type=dict[str, float | None]),
    ]
    return Union[tuple(timeout_as_json if arg is httpx.Timeout else arg for arg in get_args(hint))]  # noqa: UP007


def is_model_settings_type(type_: Any) -> bool:
    """Whether `type_` is `ModelSettings` or a provider's subclass of it, which `ModelSettingsCodec` encodes."""
    return is_typeddict(type_) and ModelSettings.__annotations__.keys() <= type_.__annotations__.keys()


def _settings_wire_type(settings_type: Any, *, probe_fields: bool = False) -> tuple[Any, frozenset[str]]:
    """A TypedDict that encodes `settings_type`, and the keys whose declared type it decodes them to.

    Settings are a TypedDict Pydantic cannot take as PydanticAI declares it: the copy writes an `httpx.Timeout`
    as its four timeouts (see `_json_friendly_hint`) and keeps the keys it does not declare, such as a provider's
    `openai_...` settings, as JSON data (see `_SETTINGS_CONFIG`). With `probe_fields`, a declared type Pydantic
    has no schema for (a provider setting typed with an SDK class) is kept as JSON data too.
    """
    try:
        hints = get_type_hints(settings_type)
    except Exception:
        # Upstream: a provider's settings TypedDict may name SDK types it imports only for type checking, so its
        # hints do not resolve (`MCPSamplingModelSettings` names `ModelPreferences`); the base keys still do.
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
    wire_type = typed_dict(f'{type_name(settings_type)}JSON', wire_fields, _SETTINGS_CONFIG, total=False)
    return wire_type, frozenset(hints.keys() - loose_keys)


_MODEL_SETTINGS_WIRE_TYPE, _MODEL_SETTINGS_TYPED_KEYS = _settings_wire_type(ModelSettings)

if TYPE_CHECKING:
    ModelSettingsJSON = ModelSettings
else:
    ModelSettingsJSON = _MODEL_SETTINGS_WIRE_TYPE
"""The type that encodes `ModelSettings` inside another type, such as a run context's."""


class ModelSettingsCodec(Codec):
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
    return codec_for(settings_type).encode(settings)


def decode_model_settings(data: bytes | str, settings_type: Any = ModelSettings) -> ModelSettings:
    """Decode model settings written by [`encode_model_settings`][durable_core.encode_model_settings].

    Args:
        data: The JSON, as bytes or str.
        settings_type: The settings type they were encoded with.

    Returns:
        Settings equal to the ones encoded.
    """
    return cast(ModelSettings, codec_for(settings_type).decode(data))


def encode_request_parameters(parameters: ModelRequestParameters) -> bytes:
    """Encode the parameters of a model request (tools, native tools, output mode) as JSON.

    Args:
        parameters: The parameters.

    Returns:
        The JSON, as bytes.
    """
    return codec_for(ModelRequestParameters).encode(parameters)


def decode_request_parameters(data: bytes | str) -> ModelRequestParameters:
    """Decode request parameters written by [`encode_request_parameters`][durable_core.encode_request_parameters].

    Args:
        data: The JSON, as bytes or str.

    Returns:
        Parameters equal to the ones encoded.
    """
    return cast(ModelRequestParameters, codec_for(ModelRequestParameters).decode(data))
