"""Tool metadata as a run's tool definitions have it: a tool's own, and what `SetToolMetadata` capabilities set.

An engine's capability form reads its key (`dbos`, `prefect`, `temporal`) when the units are known: when the agent
is created (DBOS registers child workflows before `DBOS.launch()`), at its first run, or when a worker registers
it. A `SetToolMetadata` is applied as PydanticAI applies it to a run's tool definitions, for the selectors that need
no run: `'all'`, tool names, and metadata to match. A selector function, which sees the run, is refused when it sets
the engine's key: what it would select is not known when the units are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, cast

from pydantic_ai import Agent
from pydantic_ai.agent import AbstractAgent
from pydantic_ai.capabilities import AbstractCapability, SetToolMetadata
from pydantic_ai.tools import RunContext, ToolDefinition, matches_tool_selector

from ._errors import DurableUsageError

__all__ = ['RunToolMetadataGuard', 'effective_metadata', 'set_tool_metadata']


def set_tool_metadata(agent: AbstractAgent[Any, Any], key: str) -> list[SetToolMetadata[Any]]:
    """The agent's `SetToolMetadata` capabilities, outermost first; a selector function that sets `key` is refused."""
    found: list[SetToolMetadata[Any]] = []
    if not isinstance(agent, Agent):
        return found

    def visit(capability: AbstractCapability[Any]) -> None:
        if isinstance(capability, SetToolMetadata):
            found.append(capability)

    agent.root_capability.apply(visit)
    for capability in found:
        if key in capability.metadata and callable(capability.tools):
            raise DurableUsageError(
                f'A SetToolMetadata sets {key!r} with a selector function, which only a run can answer, but the '
                "agent's durable units and their configs are fixed before its runs. Select the tools by name, "
                f"SetToolMetadata(tools=['my_tool'], {key}=...), or by metadata, or give the tools the metadata "
                f"themselves: Tool(..., metadata={{'{key}': ...}})."
            )
    return found


def effective_metadata(tool_def: ToolDefinition, set_metadata: Sequence[SetToolMetadata[Any]]) -> dict[str, Any]:
    """The tool's metadata after the `SetToolMetadata` capabilities, innermost first, as a run's tool definition has."""
    metadata: dict[str, Any] = dict(tool_def.metadata or {})
    for capability in reversed(set_metadata):
        if _static_match(capability, replace(tool_def, metadata=metadata)):
            metadata = {**metadata, **capability.metadata}
    return metadata


def _static_match(capability: SetToolMetadata[Any], tool_def: ToolDefinition) -> bool:
    """PydanticAI's own `matches_tool_selector` for a selector that needs no run (it then never suspends)."""
    if callable(capability.tools):
        return False  # refused by `set_tool_metadata` if it sets the engine's key; its other keys are not ours
    coroutine = matches_tool_selector(capability.tools, cast(Any, None), tool_def)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return bool(done.value)
    coroutine.close()  # pragma: no cover - only a selector function awaits
    raise AssertionError('a static tool selector suspended')  # pragma: no cover


class RunToolMetadataGuard(AbstractCapability[Any]):
    """Refuses, as a durable run starts, a `SetToolMetadata` given for that run only that sets the engine's key.

    The units and their configs are fixed before the runs (from the agent's own capabilities), so the run's would be
    ignored: refused, naming the fix, before the run's first unit.
    """

    def __init__(self, agent: AbstractAgent[Any, Any], key: str) -> None:
        self._agent = agent
        self._key = key

    async def before_run(self, ctx: RunContext[Any]) -> None:
        own: list[AbstractCapability[Any]] = []
        if isinstance(self._agent, Agent):
            self._agent.root_capability.apply(own.append)
        given: list[AbstractCapability[Any]] = []
        if ctx.root_capability is not None:
            ctx.root_capability.apply(given.append)
        for capability in given:
            if (
                isinstance(capability, SetToolMetadata)
                and self._key in capability.metadata
                and not any(capability is other for other in own)
            ):
                raise DurableUsageError(
                    f'A SetToolMetadata that sets {self._key!r} was given for one run (run(capabilities=...)), but '
                    "the agent's durable units and their configs are fixed before its runs. Give it when the agent is "
                    'created: Agent(..., capabilities=[SetToolMetadata(...), ...]).'
                )
