"""Errors raised by durable-agents.

```
pydantic_ai.UserError
 └── DurableUsageError          misuse found early: names the fix
      ├── DurableNameError       a missing, duplicate or malformed agent, toolset or model name
      ├── UnserializableError    a value (deps, output, tool result) that cannot cross a durable boundary
      └── NotInDurableUnitError  an entry point the engine does not support where it was called
AttributeError
 └── NotCarriedError           a RunContext field read inside a durable unit that the unit was not given
UserWarning
 └── NotDurableWarning         a run that is not durable, such as a TemporalAgent run outside a workflow
```

`DurableUsageError` subclasses PydanticAI's `UserError`, so every engine treats it as non-retryable.
"""

from __future__ import annotations

from pydantic_ai import UserError

__all__ = [
    'DurableNameError',
    'DurableUsageError',
    'NotCarriedError',
    'NotDurableWarning',
    'NotInDurableUnitError',
    'UnserializableError',
]


class DurableUsageError(UserError):
    """Misuse of a durable agent, found before anything is journaled. The message names the fix."""


class DurableNameError(DurableUsageError):
    """A missing, duplicate or malformed name of an agent, toolset, tool or model."""


class UnserializableError(DurableUsageError, TypeError):
    """A value that cannot be carried across a durable boundary by the JSON codec."""


class NotInDurableUnitError(DurableUsageError):
    """An entry point that the engine does not support in the place it was called from."""


class NotCarriedError(AttributeError):
    """A `RunContext` field that a durable unit was not given was read inside that unit."""


class NotDurableWarning(UserWarning):
    """A run that is not durable, where the engine allows it: once per agent.

    A `TemporalAgent` run outside a workflow runs like the plain agent (as PydanticAI 2.68's did, silently). To
    silence it: `warnings.filterwarnings('ignore', category=NotDurableWarning)`.
    """
