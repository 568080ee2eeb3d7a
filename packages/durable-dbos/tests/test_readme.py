"""Every Python example in the package README runs as written, each in a fresh process.

`'openai:gpt-5'` in the examples talks to a local OpenAI-compatible server, which calls each offered
tool once with arguments made from its schema, then answers in text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_core.testing import OpenAICompatibleServer, call_each_tool_once, python_blocks, run_example

BLOCKS = python_blocks(Path(__file__).parents[1] / 'README.md')


@pytest.fixture(scope='module')
def llm() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer(call_each_tool_once) as server:
        yield server


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize('block', BLOCKS, ids=[f'block{n}' for n in range(len(BLOCKS))])
def test_readme_example_runs(block: str, llm: OpenAICompatibleServer, tmp_path: Path) -> None:
    done = run_example(block, cwd=tmp_path, llm=llm)
    assert done.returncode == 0, done.stderr[-3000:]
    if 'print(' in block:
        assert done.stdout.strip()
