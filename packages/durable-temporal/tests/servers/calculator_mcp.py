"""A real stdio MCP server for the tests: two tools and instructions; each call appends to the file in argv[1]."""

import sys

from fastmcp import FastMCP

server = FastMCP('calculator', instructions='Use add for sums.')


def _count(name: str) -> None:
    if len(sys.argv) > 1:
        with open(sys.argv[1], 'a') as file:
            file.write(name + '\n')


@server.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    _count('add')
    return a + b


@server.tool
def shout(text: str) -> str:
    """Upper-case a text."""
    _count('shout')
    return text.upper()


if __name__ == '__main__':
    server.run(show_banner=False)
