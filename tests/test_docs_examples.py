"""Every ```python block of the documentation (docs/pages/**/*.md, with the files they include) is tested.

A plain ```python block runs as a program of its own, in a fresh process whose working directory is a temporary
one, without `OPENAI_API_KEY` (and `OPENAI_BASE_URL`), as on a machine with no key: a block that needs one fails. A
block that reads `OPENAI_API_KEY` (its models are PydanticAI's `TestModel` without it) runs a second time with a key,
its `'openai:...'` models talking to a local OpenAI-compatible server (`OPENAI_BASE_URL`) that calls each tool it is
offered once, with arguments made from the tool's schema, then answers in text. A block that uses Temporal finds the
test Temporal dev server in `TEMPORAL_ADDRESS`; one that uses Prefect finds the test Prefect server in
`PREFECT_API_URL`.

A block fenced as ```python {test="typecheck"} cannot run on its own (it serves forever, say): it is compiled and
type-checked with pyright instead. Any other word or option on a Python fence (```python notest, say) fails the
collection of this module, so that no block drops out of the tests unseen.

Files included with the snippets syntax (a line `--8<-- "path/from/repo/root"`) are expanded first. A block of a
package README included so is run by that package's own `TestReadme` (the same way: a fresh `python example.py`,
offline and with a key, in an environment that holds only that package, its engine and durable-core), not again here;
`test_included_readme_blocks_are_run_by_their_package` fails if such a README has no `TestReadme` running it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from durable_core.testing import (
    OpenAICompatibleServer,
    ReadmeExamples,
    RecordedRequest,
    StepLike,
    ToolCall,
    aborted_in_temporal_finalization,
    fenced_blocks,
)
from durable_core.testing import python_blocks as readme_python_blocks

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / 'docs' / 'pages'

_SNIPPET = re.compile(r'^-{2,}8<-{2,}[ \t]+"(?P<path>[^"]+)"[ \t]*$', re.MULTILINE)
_PYTHON_INFO = re.compile(r'^(?:python|py|python3)\b(?:[ \t]*\{(?P<attrs>[^}]*)\})?[ \t]*$')
_MODES = {'': 'run', 'test="typecheck"': 'typecheck'}
_EXAMPLE_VALUES: dict[str, Any] = {'string': 'Lisbon', 'number': 21.5, 'integer': 3, 'boolean': True}


@dataclass(frozen=True)
class Block:
    page: str
    number: int
    mode: str
    code: str
    with_key: bool = False

    @property
    def id(self) -> str:
        return f'{self.page}-{self.number}-{self.mode}' + ('-openai' if self.with_key else '')


def expand_snippets(text: str) -> str:
    """Replace each `--8<-- "path"` line with the file it names (paths from the repository root)."""
    return _SNIPPET.sub(lambda match: (ROOT / match['path']).read_text(), text)


def python_blocks(text: str, page: str) -> list[Block]:
    """The ```python blocks of a page, in order; a Python fence with another word or option fails the test run."""
    blocks: list[Block] = []
    for fence in fenced_blocks(text):
        python = _PYTHON_INFO.match(fence.info)
        if python is not None:
            attrs = (python['attrs'] or '').strip()
            if attrs not in _MODES:
                raise ValueError(f'{page}: unknown options {{{attrs}}} on a python fence; use {sorted(_MODES)}')
            blocks.append(Block(page, len(blocks), _MODES[attrs], fence.code))
        elif fence.looks_like_python:
            raise ValueError(
                f'{page}:{fence.line}: ```{fence.info} is not tested: use ```python (run) or '
                '```python {test="typecheck"}'
            )
    return blocks


def included_package_readme_blocks() -> dict[str, Path]:
    """The code of every ```python block of a package README (`packages/*/README.md`) that a docs page includes."""
    found: dict[str, Path] = {}
    for page in PAGES.rglob('*.md'):
        for match in _SNIPPET.finditer(page.read_text()):
            path = ROOT / match['path']
            if path.name == 'README.md' and path.parent.parent == ROOT / 'packages':
                found |= dict.fromkeys(readme_python_blocks(path), path)
    return found


def readme_test_class(readme: Path) -> type[ReadmeExamples] | None:
    """The `TestReadme` of the package whose README is `readme` (its `tests/test_readme.py`), if it has one."""
    test_file = readme.parent / 'tests' / 'test_readme.py'
    if not test_file.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f'_readme_test_of_{readme.parent.name.replace("-", "_")}', test_file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = getattr(module, 'TestReadme', None)
    return found if isinstance(found, type) and issubclass(found, ReadmeExamples) else None


def all_blocks() -> list[Block]:
    blocks: list[Block] = []
    for path in sorted(PAGES.rglob('*.md')):
        page = str(path.relative_to(PAGES).with_suffix('')).replace('/', '.')
        blocks += python_blocks(expand_snippets(path.read_text()), page)
    return blocks


BLOCKS = all_blocks()
RUN_BY_PACKAGES = included_package_readme_blocks()
RUN = [block for block in BLOCKS if block.mode == 'run' and block.code not in RUN_BY_PACKAGES]
# A block that reads OPENAI_API_KEY runs offline, then again with a key, its OpenAI models answered by `llm`: the run
# with a key checks the block's OpenAI branch too (a block that only builds an agent sends no request, so none is
# required).
RUNS = [
    run
    for block in RUN
    for run in [block, Block(block.page, block.number, block.mode, block.code, with_key=True)]
    if not run.with_key or 'OPENAI_API_KEY' in block.code
]
TYPECHECK = [block for block in BLOCKS if block.mode == 'typecheck']


def answer(request: RecordedRequest) -> StepLike:
    """Call every offered tool once, with example arguments, in answer to a user message; else answer in text."""
    last = request.last_message()
    tools = request.tools()
    if tools and last is not None and last['role'] == 'user':
        return [
            ToolCall(
                tool['name'],
                {
                    name: _EXAMPLE_VALUES.get(schema.get('type', 'string'), 'x')
                    for name, schema in (tool['parameters'] or {}).get('properties', {}).items()
                },
            )
            for tool in tools
        ]
    return f'Answered after {len(request.conversation())} messages.'


@pytest.fixture(scope='module')
def llm() -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer(answer) as server:
        yield server


def test_docs_have_tested_examples() -> None:
    assert len(RUN) >= 20
    pages = {block.page for block in BLOCKS}
    assert {'dbos', 'temporal', 'prefect', 'retries', 'upgrading', 'testing'} <= pages


def test_included_readme_blocks_are_run_by_their_package() -> None:
    """Each package README a page includes, whose blocks are not run here, is run whole by its package's tests."""
    readmes = set(RUN_BY_PACKAGES.values())
    assert readmes, 'the DBOS page includes the package README'
    for readme in readmes:
        test_class = readme_test_class(readme)
        assert test_class is not None, f'{readme} is included in the docs, but its package has no TestReadme'
        assert test_class.readme.resolve() == readme.resolve(), (test_class.readme, readme)
        assert len(readme_python_blocks(readme)) >= test_class.min_examples


@pytest.mark.parametrize('block', RUNS, ids=[block.id for block in RUNS])
def test_docs_example_runs(block: Block, llm: OpenAICompatibleServer, tmp_path: Path, request: Any) -> None:
    # As a user without a key runs it: no OPENAI_API_KEY, unless this is the block's run with a key.
    env = {name: value for name, value in os.environ.items() if name not in ('OPENAI_API_KEY', 'OPENAI_BASE_URL')}
    if block.with_key:
        env |= {'OPENAI_API_KEY': 'test-key', 'OPENAI_BASE_URL': llm.base_url}
    if re.search(r'^\s*(from|import) (temporalio|durable_temporal)\b', block.code, re.MULTILINE):
        env['TEMPORAL_ADDRESS'] = request.getfixturevalue('temporal_dev_server').target
    if re.search(r'^\s*(from|import) (prefect|durable_prefect)\b', block.code, re.MULTILINE):
        env['PREFECT_API_URL'] = request.getfixturevalue('prefect_server').api_url
    (tmp_path / 'example.py').write_text(block.code)
    done = subprocess.run(
        [sys.executable, 'example.py'], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )
    if not aborted_in_temporal_finalization(done):
        assert done.returncode == 0, f'{block.code}\n--- stderr ---\n{done.stderr[-4000:]}'
    if 'print(' in block.code:
        assert done.stdout.strip()


@pytest.mark.parametrize('block', TYPECHECK, ids=[block.id for block in TYPECHECK])
def test_docs_example_typechecks(block: Block, tmp_path: Path) -> None:
    compile(block.code, f'{block.id}.py', 'exec')
    (tmp_path / 'example.py').write_text(block.code)
    pyright = shutil.which('pyright', path=str(Path(sys.executable).parent)) or shutil.which('pyright')
    if pyright is None:
        pytest.fail('pyright is not installed: pip install pyright')
    # No config in tmp_path: pyright's basic mode, with this interpreter's packages for the imports.
    done = subprocess.run(
        [pyright, '--pythonpath', sys.executable, 'example.py'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f'{block.code}\n--- pyright ---\n{done.stdout[-4000:]}'
