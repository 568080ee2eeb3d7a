"""durable_core: the parts every durable-agents engine package shares."""

from ._errors import DurableNameError, DurableUsageError, NotCarriedError, NotInDurableUnitError, UnserializableError
from ._policy import StepPolicy
from ._retries import (
    SdkRetriesWarning,
    anthropic_provider_without_retries,
    google_provider_without_retries,
    openai_provider_without_retries,
    sdk_retry_report,
    warn_if_model_retries,
    without_sdk_retries,
)
from .version import __version__

__all__ = [
    'DurableNameError',
    'DurableUsageError',
    'NotCarriedError',
    'NotInDurableUnitError',
    'SdkRetriesWarning',
    'StepPolicy',
    'UnserializableError',
    '__version__',
    'anthropic_provider_without_retries',
    'google_provider_without_retries',
    'openai_provider_without_retries',
    'sdk_retry_report',
    'warn_if_model_retries',
    'without_sdk_retries',
]
