"""MCP toolsets in durable units: listing tools, getting instructions and calling tools.

Imported only when an agent has an MCP toolset, so durable-core does not need the MCP client installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic

from pydantic import TypeAdapter
from pydantic_ai import RunContext
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import InstructionPart
from pydantic_ai.tools import AgentDepsT, ToolDefinition
from pydantic_ai.toolsets import AbstractToolset, ToolsetTool

from ._units import DurableToolset, UnitCall, UnitRunner

__all__ = ['DurableMCPToolset']

_TOOL_DEFS_ADAPTER: TypeAdapter[list[ToolDefinition]] = TypeAdapter(list[ToolDefinition])
_INSTRUCTION_ADAPTER: TypeAdapter[InstructionPart | None] = TypeAdapter(InstructionPart | None)


class DurableMCPToolset(DurableToolset[AgentDepsT], Generic[AgentDepsT]):
    """An MCP toolset whose tool listing and instructions come from units too, listed once per run.

    Caching the list per run keeps each run step from journaling another listing, and keeps the
    tools a recovered run sees the ones it saw the first time.
    """

    def __init__(
        self,
        wrapped: MCPToolset[AgentDepsT],
        *,
        runner: UnitRunner,
        unit_for: Callable[[str], UnitCall | None],
        list_tools_call: UnitCall,
        instructions_call: UnitCall,
    ) -> None:
        super().__init__(wrapped, runner=runner, unit_for=unit_for)
        self._mcp = wrapped
        self._list_tools_call = list_tools_call
        self._instructions_call = instructions_call
        self._tool_defs: list[ToolDefinition] | None = None
        self._instructions: tuple[InstructionPart | None] | None = None

    @property
    def id(self) -> str | None:
        """The MCP toolset's id, so the instructions this wrapper returns are keyed by it as in a plain run.

        This wrapper returns the journaled instructions itself, so PydanticAI keys them by this toolset's id;
        a wrapper's own id is `None`, which would leave the server's `on_change='append'` block unkeyed.
        """
        return self._mcp.id

    def rewrap(self, wrapped: AbstractToolset[AgentDepsT]) -> DurableToolset[AgentDepsT]:
        """The same durable wrapper around the per-run copy of the MCP toolset."""
        assert isinstance(wrapped, MCPToolset)
        return DurableMCPToolset(
            wrapped,
            runner=self._runner,
            unit_for=self._unit_for,
            list_tools_call=self._list_tools_call,
            instructions_call=self._instructions_call,
        )

    async def get_tools(self, ctx: RunContext[AgentDepsT]) -> dict[str, ToolsetTool[AgentDepsT]]:
        """The server's tools, listed in a unit on first use in the run."""
        if not self._runner.in_durable_context():
            return await super().get_tools(ctx)
        if self._tool_defs is None:

            async def execute() -> str:
                tools = await self._mcp.get_tools(ctx)
                return _TOOL_DEFS_ADAPTER.dump_json([tool.tool_def for tool in tools.values()]).decode()

            journaled = await self._runner.run_unit(self._list_tools_call, execute)
            self._tool_defs = _TOOL_DEFS_ADAPTER.validate_json(journaled)
        return {tool_def.name: self._mcp.tool_for_tool_def(tool_def, ctx=ctx) for tool_def in self._tool_defs}

    async def get_instructions(self, ctx: RunContext[AgentDepsT]) -> Any:
        """The server's instructions, fetched in a unit on first use in the run."""
        if not self._runner.in_durable_context():
            return await super().get_instructions(ctx)
        if self._instructions is None:

            async def execute() -> str:
                return _INSTRUCTION_ADAPTER.dump_json(await self._mcp.get_instructions(ctx)).decode()

            journaled = await self._runner.run_unit(self._instructions_call, execute)
            self._instructions = (_INSTRUCTION_ADAPTER.validate_json(journaled),)
        return self._instructions[0]
