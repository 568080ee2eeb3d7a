"""durable_core: the parts every durable-agents engine package shares."""

from ._codec import decode, decode_messages, encode, encode_messages
from ._errors import (
    DurableNameError,
    DurableUsageError,
    NotCarriedError,
    NotDurableWarning,
    NotInDurableUnitError,
    UnserializableError,
)
from ._policy import StepPolicy, is_retryable_error
from ._retries import (
    SdkRetriesWarning,
    anthropic_provider_without_retries,
    google_provider_without_retries,
    openai_provider_without_retries,
    sdk_retry_report,
    warn_if_model_retries,
    without_sdk_retries,
)
from ._run_context import (
    CARRIED_RUN_CONTEXT_FIELDS,
    DurableRunContext,
    deserialize_run_context,
    serialize_run_context,
)
from ._settings_codec import (
    decode_model_settings,
    decode_request_parameters,
    encode_model_settings,
    encode_request_parameters,
)
from .version import __version__

__all__ = [
    'CARRIED_RUN_CONTEXT_FIELDS',
    'DurableNameError',
    'DurableRunContext',
    'DurableUsageError',
    'NotCarriedError',
    'NotDurableWarning',
    'NotInDurableUnitError',
    'SdkRetriesWarning',
    'StepPolicy',
    'UnserializableError',
    '__version__',
    'anthropic_provider_without_retries',
    'decode',
    'decode_messages',
    'decode_model_settings',
    'decode_request_parameters',
    'deserialize_run_context',
    'encode',
    'encode_messages',
    'encode_model_settings',
    'encode_request_parameters',
    'google_provider_without_retries',
    'is_retryable_error',
    'openai_provider_without_retries',
    'sdk_retry_report',
    'serialize_run_context',
    'warn_if_model_retries',
    'without_sdk_retries',
]
