"""The data converter `PydanticAIPlugin` installs: Pydantic-aware, and carrying durable-core's JSON as is.

Activity inputs and results are JSON text made by durable-core's codec. The default JSON converter
would wrap that text in a JSON string, escaping every quote (and the workflow would parse it twice);
`PydanticAIPayloadConverter` writes it into the payload unchanged, so the history holds readable,
compact JSON. Everything else goes through Temporal's Pydantic converter.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pydantic_core
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema
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
    `temporalio.contrib.pydantic.pydantic_data_converter`, in a `Replayer` say) validates the payload's JSON against
    this type's schema, which writes the parsed value back as compact JSON text: the same text our codec wrote.
    """

    __slots__ = ()

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

    A payload converter that is neither Temporal's default, its Pydantic one, nor a subclass of ours is
    replaced, with a warning: activity payloads must be decoded the way they were encoded.
    """
    if existing is None:
        return DataConverter(payload_converter_class=PydanticAIPayloadConverter)
    current = existing.payload_converter_class
    if issubclass(current, PydanticAIPayloadConverter):
        return existing
    if current not in (DefaultPayloadConverter, PydanticPayloadConverter):
        warnings.warn(
            f'PydanticAIPlugin replaced the payload converter {current.__qualname__} with PydanticAIPayloadConverter '
            '(your payload codec and failure converter are kept). To keep custom conversion, subclass '
            'durable_temporal.PydanticAIPayloadConverter.',
            UserWarning,
            stacklevel=2,
        )
    return dataclasses.replace(existing, payload_converter_class=PydanticAIPayloadConverter)
