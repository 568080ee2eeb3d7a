"""MCP and dynamic toolsets in a workflow: listing, instructions and calls each run in an activity.

A function toolset's tools are known before the run, so only their calls need activities (durable-core's
`DurableToolset`). An MCP server's tools, and the toolset a `@agent.toolset` function returns, are only
known by asking, which is I/O: `ActivityToolset` asks from an activity, and keeps the tools and instructions for the run
(MCP) or the run step (a dynamic toolset evaluated per step), so a replay sees the same tools.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from durable_core import decode, encode
from pydantic import TypeAdapter
from pydantic_ai import RunContext
from pydantic_ai.messages import InstructionPart
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import AbstractToolset, ToolsetTool

__all__ = ['ANY_ARGS', 'ActivityToolset', 'ListedTool', 'encode_instructions', 'encode_listed_tools']


@dataclass
class ListedTool:
    """One tool as an activity lists it: its definition and how often it may be retried."""

    tool_def: ToolDefinition
    max_retries: int


_LISTED_TOOLS = list[ListedTool]
_Instructions: TypeAlias = str | InstructionPart | list[str | InstructionPart] | None
_CacheKey: TypeAlias = tuple[str | None, int]


def encode_listed_tools(tools: list[ListedTool]) -> str:
    """The result of a listing activity."""
    return encode(tools, _LISTED_TOOLS).decode()


def encode_instructions(instructions: str | InstructionPart | Sequence[str | InstructionPart] | None) -> str:
    """The result of an instructions activity."""
    if isinstance(instructions, Sequence) and not isinstance(instructions, str):
        instructions = list(instructions)
    return encode(instructions, _Instructions).decode()


ANY_ARGS: Any = TypeAdapter(dict[str, Any]).validator
"""Workflow-side validator of the arguments of listed tools: the activity validates them for real."""

Request = Callable[[Literal['get_tools', 'get_instructions'], RunContext[Any]], Coroutine[Any, Any, str]]


@dataclass
class ActivityToolset(AbstractToolset[Any]):
    """Stands in the workflow for an MCP or dynamic toolset; `request` runs the activity.

    Calls go through the agent's `DurableToolset` machinery (`call`), listing and instructions through
    `request`. Entering and leaving do nothing in the workflow: the activity connects for itself.
    """

    wrapped: AbstractToolset[Any]
    toolset_id: str
    per_run_step: bool
    request: Request
    call: Callable[[str, dict[str, Any], RunContext[Any]], Coroutine[Any, Any, Any]]
    has_instructions: bool
    _tools: dict[_CacheKey, list[ListedTool]] = field(default_factory=dict[_CacheKey, list[ListedTool]])
    _instructions: dict[_CacheKey, _Instructions] = field(default_factory=dict[_CacheKey, _Instructions])

    @property
    def id(self) -> str | None:
        """The wrapped toolset's id."""
        return self.toolset_id

    @property
    def label(self) -> str:
        """The wrapped toolset's label."""
        return self.wrapped.label

    async def for_run(self, ctx: RunContext[Any]) -> AbstractToolset[Any]:
        """Nothing to prepare in the workflow."""
        return self

    async def for_run_step(self, ctx: RunContext[Any]) -> AbstractToolset[Any]:
        """Nothing to prepare in the workflow."""
        return self

    async def __aenter__(self) -> ActivityToolset:
        """Nothing to connect in the workflow."""
        return self

    async def __aexit__(self, *args: Any) -> bool | None:
        """Nothing to close in the workflow."""
        return None

    async def get_instructions(
        self, ctx: RunContext[Any]
    ) -> str | InstructionPart | Sequence[str | InstructionPart] | None:
        """The toolset's instructions, from an activity once per run (or per step for per-step dynamic toolsets)."""
        if not self.has_instructions:
            return None
        key = self._cache_key(ctx)
        if key not in self._instructions:
            self._instructions[key] = decode(await self.request('get_instructions', ctx), _Instructions)
        return self._instructions[key]

    def _cache_key(self, ctx: RunContext[Any]) -> _CacheKey:
        return (ctx.run_id, ctx.run_step if self.per_run_step else 0)

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        """The toolset's tools, listed by an activity once per run (or per step for per-step dynamic toolsets)."""
        key = self._cache_key(ctx)
        listed = self._tools.get(key)
        if listed is None:
            listed = self._tools[key] = decode(await self.request('get_tools', ctx), _LISTED_TOOLS)
        return {
            tool.tool_def.name: ToolsetTool(
                toolset=self, tool_def=tool.tool_def, max_retries=tool.max_retries, args_validator=ANY_ARGS
            )
            for tool in listed
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        """Call the tool from an activity."""
        return await self.call(name, tool_args, ctx)

    def visit_and_replace(
        self, visitor: Callable[[AbstractToolset[Any]], AbstractToolset[Any]]
    ) -> AbstractToolset[Any]:
        """Already durable."""
        return self
