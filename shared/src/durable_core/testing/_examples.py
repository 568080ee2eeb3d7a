"""Running documentation examples as written: Python blocks of a Markdown file, each as `python example.py`.

An example runs offline on PydanticAI's `TestModel` unless `OPENAI_API_KEY` is set. Given `llm=`, it runs with a
key and `OPENAI_BASE_URL` pointing at a local `OpenAICompatibleServer`, which answers with `call_each_tool_once`:
it calls every offered tool once, with arguments made from the tool's schema, then answers in text.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ._openai_server import OpenAICompatibleServer, RecordedRequest
from ._scripted import StepLike, ToolCall

__all__ = [
    'Fence',
    'ReadmeExamples',
    'aborted_in_temporal_finalization',
    'call_each_tool_once',
    'fenced_blocks',
    'python_blocks',
    'run_example',
]

_EXAMPLE_VALUES: dict[str, object] = {'string': 'Lisbon', 'number': 21.5, 'integer': 3, 'boolean': True}
_FENCE_OPEN = re.compile(r'^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)$')
# The first word of a Python fence's info string, however it goes on (`python notest`, `Python`, `py {...}`).
_PYTHON_WORD = re.compile(r'^(?:python3?|py3?)(?![\w-])', re.IGNORECASE)
_PLAIN_PYTHON = frozenset({'python', 'py', 'python3'})
_CONSOLE_WORDS = frozenset({'pycon', 'python-repl', 'ipython'})


@dataclass(frozen=True)
class Fence:
    """A fenced code block of a Markdown text."""

    line: int
    """The line of its opening fence (from 1)."""
    info: str
    """What follows the opening backticks (`python`, `bash`, `python {test="typecheck"}`), stripped."""
    code: str
    """Its lines, each without the fence's indentation, each ending in a newline."""

    @property
    def looks_like_python(self) -> bool:
        """Whether it is a Python block of any spelling (```Python, ```py3 {...}) or a console session (```pycon)."""
        return bool(_PYTHON_WORD.match(self.info)) or self.info.split('{')[0].strip().lower() in _CONSOLE_WORDS


def fenced_blocks(text: str) -> list[Fence]:
    """Every fenced code block of a Markdown text, in order; an indented one (in a list, say) too."""
    fences: list[Fence] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = opening['indent']
        end = index + 1
        while end < len(lines) and lines[end].strip() != '```':
            end += 1
        code = ''.join(line.removeprefix(indent) + '\n' for line in lines[index + 1 : end])
        fences.append(Fence(index + 1, opening['info'].strip(), code))
        index = end + 1
    return fences


def python_blocks(markdown: Path) -> list[str]:
    """The code of every ```python block in a Markdown file, in order.

    A block may be indented (in a list, say): its lines lose the fence's indentation. A Python fence with anything
    after `python` (```python notest, ```python {...}), or a console session (```pycon), is refused rather than
    left out, so that no example drops out of the tests unseen.

    Raises:
        ValueError: A Python fence other than a plain ```python, naming the file and the line.
    """
    blocks: list[str] = []
    for fence in fenced_blocks(markdown.read_text()):
        if fence.info in _PLAIN_PYTHON:
            blocks.append(fence.code)
        elif fence.looks_like_python:
            raise ValueError(
                f'{markdown}:{fence.line}: ```{fence.info} is not run as an example: make it a plain ```python '
                'block that runs as written'
            )
    return blocks


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
    code: str,
    *,
    cwd: Path,
    llm: OpenAICompatibleServer | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """Run `code` as `python example.py` in `cwd`, in a fresh interpreter, as a user would.

    Args:
        code: The example's source.
        cwd: The directory to write `example.py` to and run it in.
        llm: The server OpenAI is pointed at (`OPENAI_API_KEY` and `OPENAI_BASE_URL`); without it, both are unset,
            as on a machine with no key.
        env: Extra environment variables, such as the address of an engine's server.
        timeout: Seconds before the run is killed.

    Returns:
        The finished process, with its exit code and output.
    """
    (cwd / 'example.py').write_text(code)
    environ = {k: v for k, v in os.environ.items() if k not in ('OPENAI_API_KEY', 'OPENAI_BASE_URL')}
    if llm is not None:
        environ |= {'OPENAI_API_KEY': 'test-key', 'OPENAI_BASE_URL': llm.base_url}
    return subprocess.run(
        [sys.executable, 'example.py'],
        cwd=cwd,
        env=environ | dict(env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def aborted_in_temporal_finalization(done: subprocess.CompletedProcess[str]) -> bool:
    """Whether a finished program was aborted by temporalio's runtime threads while Python shut down.

    An open temporalio bug (temporalio/sdk-python#300): a short-lived process that ran a worker with the workflow
    sandbox sometimes dies with SIGABRT in interpreter finalization, after its last line ran (here: 4 of 30 runs of a
    plain temporalio hello-world, no PydanticAI, against 0 of 30 without the sandbox). The program's own work is
    checked by its output; only this exact abort, with no Python traceback, is let through.
    """
    return (
        done.returncode == -signal.SIGABRT
        and 'Fatal Python error: PyGILState_Release' in done.stderr
        and 'Python runtime state: finalizing' in done.stderr
        and 'Traceback' not in done.stderr
    )


class ReadmeExamples:
    """Tests that every ```python block of a README runs as written, as `python example.py` in a fresh process.

    Subclass it as `TestReadme` in a package's tests, naming the file; pytest collects the tests below. Each block
    runs without `OPENAI_API_KEY`, as on a machine with no key (its models must then be `TestModel`s); a block that
    reads `OPENAI_API_KEY` runs a second time with a key, its `'openai:...'` models talking to one local
    `OpenAICompatibleServer` answering with `call_each_tool_once`. Every block must exit 0 and print something: a
    block whose `main()` is never called prints nothing, and fails (an exit aborted by
    `aborted_in_temporal_finalization` after the output is let through, with a warning). Override `example_env` to
    give the examples the address of a server.

    Example:
        ```python
        import sys
        import tempfile
        from pathlib import Path

        import pytest
        from durable_core.testing import ReadmeExamples

        FENCE = '`' * 3  # a Markdown code fence (typed out, it would end this example's own)
        README = Path(tempfile.mkdtemp()) / 'README.md'
        README.write_text(f'''# A package

        {FENCE}python
        print('Hello from the README')
        {FENCE}
        ''')


        class TestReadme(ReadmeExamples):
            readme = README  # in a package's tests: Path(__file__).parents[1] / 'README.md'
            min_examples = 1


        if __name__ == '__main__':  # runs the tests above, as `pytest example.py` does
            sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', __file__]))
        ```
    """

    readme: ClassVar[Path]
    min_examples: ClassVar[int] = 1
    llm: ClassVar[OpenAICompatibleServer]

    @classmethod
    def setup_class(cls) -> None:
        """Start the model server the examples talk to when given a key."""
        cls.llm = OpenAICompatibleServer(call_each_tool_once).start()

    @classmethod
    def teardown_class(cls) -> None:
        """Stop the model server."""
        cls.llm.stop()

    def example_env(self) -> dict[str, str]:
        """Environment variables every example runs with, besides the test's own (none by default)."""
        return {}

    def pytest_generate_tests(self, metafunc: Any) -> None:
        """One `test_example_runs` per block of the README, and one more with a key for a block that reads it."""
        if 'block' in metafunc.fixturenames:
            cases: list[tuple[str, bool]] = []
            ids: list[str] = []
            for n, block in enumerate(python_blocks(self.readme)):
                cases.append((block, False))
                ids.append(f'block{n}-offline')
                if 'OPENAI_API_KEY' in block:
                    cases.append((block, True))
                    ids.append(f'block{n}-openai')
            metafunc.parametrize(('block', 'with_key'), cases, ids=ids)

    def test_readme_has_examples(self) -> None:
        """The README still has its examples (a broken fence would silently drop them)."""
        assert len(python_blocks(self.readme)) >= self.min_examples

    def test_example_runs(self, block: str, with_key: bool, tmp_path: Path) -> None:
        """The block runs to its end and prints its result; with a key, its model requests reach the server."""
        requests_before = self.llm.calls.total
        done = run_example(block, cwd=tmp_path, llm=self.llm if with_key else None, env=self.example_env())
        if aborted_in_temporal_finalization(done):
            warnings.warn('the example ran, then temporalio aborted its exit (temporalio/sdk-python#300)', stacklevel=1)
        else:
            assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip(), f'the example printed nothing: is its main() called?\n{done.stderr[-3000:]}'
        if with_key:
            assert self.llm.calls.total > requests_before, 'with OPENAI_API_KEY set, the example did not use OpenAI'
