"""durable_core: the parts every durable-agents engine package shares."""

from ._errors import DurableNameError, DurableUsageError, NotCarriedError, NotInDurableUnitError, UnserializableError
from ._policy import StepPolicy
from .version import __version__

__all__ = [
    'DurableNameError',
    'DurableUsageError',
    'NotCarriedError',
    'NotInDurableUnitError',
    'StepPolicy',
    'UnserializableError',
    '__version__',
]
