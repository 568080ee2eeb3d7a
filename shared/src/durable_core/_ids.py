"""Stable names of durable units, derived from the agent name, the toolset id and the tool name.

Engines persist these names (Temporal activity types, DBOS step names, Prefect task names), so a
rename breaks runs that are in flight when the new code is deployed. `durable_unit_names` lists
every name of an agent, so a test can pin them and notice such a rename before users do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ._errors import DurableNameError

__all__ = [
    'NAME_PATTERN',
    'UnitId',
    'UnitKind',
    'check_unique',
    'derived_name',
    'replay_stable_uuid',
    'validate_name',
]

NAME_PATTERN = re.compile(r'^[A-Za-z_][A-Za-z0-9_\-]{0,99}$')
"""Agent names, toolset ids and model keys: a letter or underscore, then letters, digits, `_` or `-`."""

_SEPARATOR = '.'
_NAMESPACE = uuid.UUID('5a0d7c3e-1b7e-4c55-9a53-0d2f8e4b6a11')

UnitKind = Literal[
    'run',
    'model_request',
    'model_cancel',
    'tool_call',
    'toolset_get_tools',
    'toolset_get_instructions',
    'toolset_call_tool',
    'mcp_get_tools',
    'mcp_get_instructions',
    'mcp_call_tool',
    'event_handler',
]
"""What a durable unit does. `run` names the workflow or flow of an agent; `model_cancel` cancels the job of a suspended
(background) model response that the run gives up on."""


def validate_name(value: object, *, what: str, fix: str) -> str:
    """Return `value` if it is a valid name, else raise `DurableNameError` that says how to fix it.

    Args:
        value: The name to check.
        what: What is named, for the message, for example `'agent name'`.
        fix: How to give or change the name, for example `"Agent(..., name='support')"`.
    """
    if value is None or value == '':
        raise DurableNameError(f'A durable agent needs a {what}, and none was given. Set one: {fix}.')
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise DurableNameError(
            f'The {what} {value!r} is not a valid durable name: use 1 to 100 letters, digits, `_` or `-`, '
            f'starting with a letter or `_`. Change it: {fix}.'
        )
    return value


def derived_name(qualname: str) -> str:
    """A valid durable name derived from a function's `__qualname__`, the same in every process that defines it.

    The rule, which names units and so must not change: drop each `<locals>` part, join the remaining dotted parts
    with `-`, replace every character other than a letter, digit, `_` or `-` with `_`, and keep the last 100
    characters (starting with `_` if they would start with a digit or `-`). `make_agent.<locals>.user_tools` gives
    `make_agent-user_tools`, a lambda `_lambda_`.

    Args:
        qualname: The qualified name, such as `make_agent.<locals>.user_tools`.
    """
    parts = [part for part in qualname.split('.') if part and part != '<locals>']
    name = re.sub(r'[^A-Za-z0-9_\-]', '_', '-'.join(parts)) or '_'
    name = name[-100:]
    if not NAME_PATTERN.match(name):
        name = '_' + name[-99:]
    return name


def check_unique(names: Iterable[str], *, what: str, fix: str) -> None:
    """Raise `DurableNameError` if a name occurs twice.

    Args:
        names: The names to check.
        what: What is named, for the message, for example `'toolset id'`.
        fix: How to make names unique.
    """
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DurableNameError(f'Two {what}s are both {name!r}; each must be unique. {fix}.')
        seen.add(name)


@dataclass(frozen=True)
class UnitId:
    """The identity of one kind of durable unit of an agent; `str()` gives its persisted name.

    Examples: `geography.run`, `geography.model_request`, `geography.tool_call.<agent>.get_weather`
    is never produced: the agent's own tools use the toolset id `agent`, as in
    `geography.tool_call.agent.get_weather`.
    """

    agent: str
    """The agent name."""
    kind: UnitKind
    """What the unit does."""
    toolset: str | None = None
    """The toolset id, for toolset units."""
    tool: str | None = None
    """The tool name, for per-tool units."""

    def __str__(self) -> str:
        parts = [self.agent, self.kind]
        if self.toolset is not None:
            parts.append(self.toolset)
        if self.tool is not None:
            parts.append(self.tool)
        return _SEPARATOR.join(parts)


def replay_stable_uuid(*parts: str) -> str:
    """A UUID that depends only on `parts`, so a replayed or recovered run generates the same one.

    Used for ids that a run would otherwise draw at random, such as its `run_id`.
    """
    return str(uuid.uuid5(_NAMESPACE, '\x1f'.join(parts)))
