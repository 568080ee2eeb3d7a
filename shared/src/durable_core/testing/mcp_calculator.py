"""A real stdio MCP server for tests: tools `add` and `shout`, and instructions.

Run it as a script (`python -m durable_core.testing.mcp_calculator [COUNTER_FILE]`, or by path with
`MCP_CALCULATOR_PATH`); each tool call appends the tool's name to COUNTER_FILE, so a test counts the
calls at their source. Needs the `fastmcp` package, which `pydantic-ai-slim[mcp]` brings.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ['MCP_CALCULATOR_PATH']

MCP_CALCULATOR_PATH = Path(__file__)
"""This file: hand it to an MCP stdio transport, e.g. fastmcp's `PythonStdioTransport(MCP_CALCULATOR_PATH)`."""


def _serve() -> None:
    from fastmcp import FastMCP

    server = FastMCP('calculator', instructions='Use add for sums.')

    def count(name: str) -> None:
        if len(sys.argv) > 1:
            with open(sys.argv[1], 'a') as file:
                file.write(name + '\n')

    @server.tool
    def add(a: int, b: int) -> int:  # pyright: ignore[reportUnusedFunction]
        """Add two integers."""
        count('add')
        return a + b

    @server.tool
    def shout(text: str) -> str:  # pyright: ignore[reportUnusedFunction]
        """Upper-case a text."""
        count('shout')
        return text.upper()

    server.run(show_banner=False)


if __name__ == '__main__':
    _serve()
