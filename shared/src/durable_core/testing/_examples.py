"""Running documentation examples as written: Python blocks of a Markdown file, each in a fresh process.

An example that says `Agent('openai:gpt-5')` talks to a local `OpenAICompatibleServer` (through
`OPENAI_BASE_URL`), which answers with `call_each_tool_once`: it calls every offered tool once, with
arguments made from the tool's schema, then answers in text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from ._openai_server import OpenAICompatibleServer, RecordedRequest
from ._scripted import StepLike, ToolCall

__all__ = ['ReadmeExamples', 'call_each_tool_once', 'python_blocks', 'run_example']

_EXAMPLE_VALUES: dict[str, object] = {'string': 'Lisbon', 'number': 21.5, 'integer': 3, 'boolean': True}


def python_blocks(markdown: Path) -> list[str]:
    """The code of every ```python block in a Markdown file, in order."""
    return re.findall(r'```python\n(.*?)```', markdown.read_text(), flags=re.DOTALL)


def call_each_tool_once(request: RecordedRequest) -> StepLike:
    """A generic model: after the user speaks, call each offered tool once; after tool results, answer in text."""
    conversation = request.conversation()
    tools = request.tools()
    if tools and conversation and conversation[-1]['role'] == 'user':
        calls: list[ToolCall] = []
        for tool in tools:
            properties: dict[str, dict[str, str]] = tool['parameters'].get('properties', {})
            args = {name: _EXAMPLE_VALUES.get(schema.get('type', 'string'), 'x') for name, schema in properties.items()}
            calls.append(ToolCall(tool['name'], args))
        return calls
    return f'Answered after {len(conversation)} messages.'


def run_example(
    code: str, *, cwd: Path, llm: OpenAICompatibleServer, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run `code` as `example.py` in `cwd`, in a fresh interpreter, with OpenAI pointed at `llm`."""
    (cwd / 'example.py').write_text(code)
    env = {**os.environ, 'OPENAI_API_KEY': 'test-key', 'OPENAI_BASE_URL': llm.base_url}
    return subprocess.run(
        [sys.executable, 'example.py'], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


class ReadmeExamples:
    """Tests that every ```python block of a README runs as written, each in a fresh process.

    Subclass it as `TestReadme` in a package's tests, naming the file; pytest collects the tests below. The
    examples' `'openai:...'` models talk to one `OpenAICompatibleServer` answering with `call_each_tool_once`.

    Example:
        ```python
        class TestReadme(ReadmeExamples):
            readme = Path(__file__).parents[1] / 'README.md'
            min_examples = 8
        ```
    """

    readme: ClassVar[Path]
    min_examples: ClassVar[int] = 1
    llm: ClassVar[OpenAICompatibleServer]

    @classmethod
    def setup_class(cls) -> None:
        """Start the model server the examples talk to."""
        cls.llm = OpenAICompatibleServer(call_each_tool_once).start()

    @classmethod
    def teardown_class(cls) -> None:
        """Stop the model server."""
        cls.llm.stop()

    def pytest_generate_tests(self, metafunc: Any) -> None:
        """One `test_example_runs` per block of the README."""
        if 'block' in metafunc.fixturenames:
            blocks = python_blocks(self.readme)
            metafunc.parametrize('block', blocks, ids=[f'block{n}' for n in range(len(blocks))])

    def test_readme_has_examples(self) -> None:
        """The README still has its examples (a broken fence would silently drop them)."""
        assert len(python_blocks(self.readme)) >= self.min_examples

    def test_example_runs(self, block: str, tmp_path: Path) -> None:
        """The block runs to its end and, if it prints, prints something."""
        done = run_example(block, cwd=tmp_path, llm=self.llm)
        assert done.returncode == 0, done.stderr[-3000:]
        if 'print(' in block:
            assert done.stdout.strip()
