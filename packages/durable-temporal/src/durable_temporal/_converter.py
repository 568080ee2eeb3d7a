"""The data converter `PydanticAIPlugin` installs: Pydantic-aware, and carrying durable-core's JSON as is.

Activity inputs and results are JSON text made by durable-core's codec. The default JSON converter
would wrap that text in a JSON string, escaping every quote (and the workflow would parse it twice);
`PydanticAIPayloadConverter` writes it into the payload unchanged, so the history holds readable,
compact JSON. Everything else goes through Temporal's Pydantic converter. Any other Pydantic payload
converter (a user's `PydanticPayloadConverter` subclass) writes and reads that JSON right too, through
the Pydantic schema and serializer of its type, `RawJson`.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, ClassVar

import pydantic_core
from pydantic import GetCoreSchemaHandler, TypeAdapter
from pydantic_core import SchemaSerializer, core_schema
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter, ToJsonOptions
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

__all__ = ['PydanticAIPayloadConverter', 'RawJson', 'data_converter']


class RawJson(str):
    """JSON text that a payload carries as is: the input or result of one of our activities.

    `PydanticAIPayloadConverter` reads a payload into it unchanged. Any other Pydantic converter (the stock
    `temporalio.contrib.pydantic.pydantic_data_converter`, in a `Replayer` say, or a user's subclass) validates the
    payload's JSON against this type's schema, which writes the parsed value back as compact JSON text: the same text
    our codec wrote. Such a converter writes a `RawJson` with `pydantic_core.to_json`, which serializes a value whose
    class has a `__pydantic_serializer__` with it (as it does a Pydantic model): ours writes the JSON it holds, not a
    JSON string.
    """

    __slots__ = ()
    __pydantic_serializer__: ClassVar[SchemaSerializer]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """From JSON, any value as its JSON text; from Python, a `str` holding JSON text.

        Args:
            source: The type (`RawJson`).
            handler: Pydantic's schema handler (unused).

        Returns:
            The schema; values serialize to JSON as the JSON they hold.
        """
        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_after_validator_function(_as_json_text, core_schema.any_schema()),
            python_schema=core_schema.no_info_after_validator_function(cls, core_schema.str_schema()),
            serialization=core_schema.plain_serializer_function_ser_schema(pydantic_core.from_json, when_used='json'),
        )


def _as_json_text(value: Any) -> RawJson:
    return RawJson(pydantic_core.to_json(value).decode())


RawJson.__pydantic_serializer__ = TypeAdapter(RawJson).serializer


class _RawJsonAwareConverter(PydanticJSONPlainPayloadConverter):
    def to_payload(self, value: Any) -> Payload | None:
        if isinstance(value, RawJson):
            return Payload(metadata={'encoding': self.encoding.encode()}, data=value.encode())
        return super().to_payload(value)

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        if type_hint is RawJson:
            return RawJson(payload.data.decode())
        return super().from_payload(payload, type_hint)


class PydanticAIPayloadConverter(PydanticPayloadConverter):
    """Temporal's Pydantic payload converter, writing durable-core's JSON into payloads unchanged.

    Subclass it to customise conversion further; `PydanticAIPlugin` keeps a subclass as it is.
    """

    def __init__(self, to_json_options: ToJsonOptions | None = None) -> None:
        json_converter = _RawJsonAwareConverter(to_json_options)
        CompositePayloadConverter.__init__(
            self,
            *(
                json_converter if isinstance(converter, JSONPlainPayloadConverter) else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            ),
        )


def data_converter(existing: DataConverter | None) -> DataConverter:
    """The data converter with `PydanticAIPayloadConverter`, keeping the codec and failure converter of `existing`.

    A subclass of Temporal's `PydanticPayloadConverter` (or of ours) is kept as it is: it converts our payloads
    right (see `RawJson`). Temporal's default and its Pydantic converter are replaced with ours silently (PydanticAI
    2.68 does the same); any other payload converter is replaced with a warning, as in 2.68: it would write our
    activity payloads as JSON strings, and PydanticAI's values not at all.
    """
    if existing is None:
        return DataConverter(payload_converter_class=PydanticAIPayloadConverter)
    current = existing.payload_converter_class
    if issubclass(current, PydanticPayloadConverter) and current is not PydanticPayloadConverter:
        return existing
    if current not in (DefaultPayloadConverter, PydanticPayloadConverter):
        warnings.warn(
            f'PydanticAIPlugin replaced the payload converter {current.__qualname__} with PydanticAIPayloadConverter '
            '(your payload codec and failure converter are kept). To keep custom conversion, subclass '
            'durable_temporal.PydanticAIPayloadConverter (or temporalio.contrib.pydantic.PydanticPayloadConverter).',
            UserWarning,
            stacklevel=2,
        )
    return dataclasses.replace(existing, payload_converter_class=PydanticAIPayloadConverter)
