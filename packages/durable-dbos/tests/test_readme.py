"""Every Python example in the package README runs as written, each in a fresh process.

`'openai:gpt-5'` in the examples talks to a local OpenAI-compatible server (OPENAI_BASE_URL), which
calls each offered tool once with arguments made from its schema, then answers in text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_core.testing import OpenAICompatibleServer, RecordedRequest, StepLike, ToolCall

README = Path(__file__).parents[1] / 'README.md'
BLOCKS = re.findall(r'```python\n(.*?)```', README.read_text(), flags=re.DOTALL)

_EXAMPLE_VALUES = {'string': 'Lisbon', 'number': 21.5, 'integer': 3, 'boolean': True}


def answer(request: RecordedRequest) -> StepLike:
    """Call every offered tool once after the user speaks, with arguments made from its schema; then answer."""
    conversation = request.conversation()
    tools = request.tools()
    if tools and conversation[-1]['role'] == 'user':
        return [
            ToolCall(
                tool['name'],
                {
                    name: _EXAMPLE_VALUES.get(schema.get('type', 'string'), 'x')
                    for name, schema in tool['parameters'].get('properties', {}).items()
                },
            )
            for tool in tools
        ]
    return f'Answered after {len(conversation)} messages.'


@pytest.fixture(scope='module')
def llm() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer(answer) as server:
        yield server


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize('block', BLOCKS, ids=[f'block{n}' for n in range(len(BLOCKS))])
def test_readme_example_runs(block: str, llm: OpenAICompatibleServer, tmp_path: Path) -> None:
    (tmp_path / 'example.py').write_text(block)
    env = {**os.environ, 'OPENAI_API_KEY': 'test-key', 'OPENAI_BASE_URL': llm.base_url}
    done = subprocess.run(
        [sys.executable, 'example.py'], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    if 'print(' in block:
        assert done.stdout.strip()
