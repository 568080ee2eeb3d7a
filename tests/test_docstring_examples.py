"""Every ```python block in the packages' docstrings runs as written, as `python example.py` in a fresh process.

The API reference pages (docs/pages/reference/) render the docstrings with mkdocstrings, `Example:` blocks
included; tests/test_docs_examples.py runs the pages' own blocks, this module the docstrings'. The blocks are read
with `ast` from every docstring (of a module, class or function, and the attribute docstrings mkdocstrings renders
too) of every module of each package's source, private modules included, since the public objects are defined
there: a new docstring example is run without being listed anywhere.

A block runs as tests/test_docs_examples.py runs a page's: in a fresh process whose working directory is a temporary
one, without `OPENAI_API_KEY` (and `OPENAI_BASE_URL`), as on a machine with no key; a block that reads
`OPENAI_API_KEY` runs a second time with a key, its `'openai:...'` models talking to a local OpenAI-compatible
server that calls each offered tool once, then answers in text. A block that uses Temporal finds the test Temporal
dev server in `TEMPORAL_ADDRESS`; one that uses Prefect finds the test Prefect server in `PREFECT_API_URL`. A block
that prints must print something.

Only a plain ```python fence is run. Any other Python fence in a docstring (```python {...}, ```py, ```pycon, ...)
fails the collection of this module, so that no example drops out of the tests unseen.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from durable_core.testing import (
    OpenAICompatibleServer,
    aborted_in_temporal_finalization,
    call_each_tool_once,
    fenced_blocks,
    run_example,
)

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / 'shared' / 'src' / 'durable_core', *sorted((ROOT / 'packages').glob('durable-*/src/durable_*'))]


@dataclass(frozen=True)
class Block:
    """A ```python block of a docstring."""

    id: str
    """The dotted name of the documented object (the module's, for a module docstring), `#<n>` after a first block."""
    where: str
    """The file and line of the opening fence, from the repository root."""
    code: str
    with_key: bool = False


def _docstrings(tree: ast.Module, module: str) -> list[tuple[str, int, str]]:
    """Each docstring of a module: the dotted name of what it documents, its first line, its text (raw)."""
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> None:
        previous: ast.stmt | None = None
        for statement in node.body:
            expression = statement.value if isinstance(statement, ast.Expr) else None
            value = expression.value if isinstance(expression, ast.Constant) else None
            if isinstance(value, str):
                # A string first in a body is its docstring; one after an assignment documents that attribute.
                target = None
                if isinstance(previous, ast.AnnAssign) and isinstance(previous.target, ast.Name):
                    target = previous.target.id
                elif isinstance(previous, ast.Assign) and isinstance(previous.targets[0], ast.Name):
                    target = previous.targets[0].id
                found.append((f'{name}.{target}' if target else name, statement.lineno, value))
            elif isinstance(statement, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                visit(statement, f'{name}.{statement.name}')
            previous = statement

    visit(tree, module)
    return found


def docstring_blocks(path: Path, package_root: Path) -> list[Block]:
    """The ```python blocks of a module's docstrings, in order; any other Python fence fails the test run."""
    module = '.'.join(path.relative_to(package_root.parent).with_suffix('').parts).removesuffix('.__init__')
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    blocks: list[Block] = []
    for name, first_line, docstring in _docstrings(ast.parse(path.read_text(), str(path)), module):
        # The raw string, lines indented as in the file: `fenced_blocks` takes off each fence's indentation.
        for fence in fenced_blocks(docstring):
            line = first_line + fence.line - 1
            if fence.info == 'python':
                number = sum(block.id.split('#')[0] == name for block in blocks)
                blocks.append(Block(f'{name}#{number}' if number else name, f'{where}:{line}', fence.code))
            elif fence.looks_like_python:
                raise ValueError(
                    f'{where}:{line}: ```{fence.info} is not run as an example: make it a plain ```python block '
                    'that runs as written with `python example.py`'
                )
    return blocks


def all_blocks() -> list[Block]:
    return [block for root in SOURCES for path in sorted(root.rglob('*.py')) for block in docstring_blocks(path, root)]


BLOCKS = all_blocks()
# A block that reads OPENAI_API_KEY runs offline, then again with a key, its OpenAI models answered by `llm`.
RUNS = [
    run
    for block in BLOCKS
    for run in [block, Block(block.id, block.where, block.code, with_key=True)]
    if not run.with_key or 'OPENAI_API_KEY' in block.code
]


@pytest.fixture(scope='module')
def llm() -> Any:
    with OpenAICompatibleServer(call_each_tool_once) as server:
        yield server


def test_docstrings_have_tested_examples() -> None:
    ids = {block.id for block in BLOCKS}
    assert len(BLOCKS) >= 9
    assert {
        'durable_core._retries.without_sdk_retries',
        'durable_prefect._agent.PrefectAgent',
        'durable_temporal._agent.TemporalAgent',
    } <= ids


def test_a_fence_that_would_not_run_is_refused(tmp_path: Path) -> None:
    module = tmp_path / 'pkg' / 'mod.py'
    module.parent.mkdir()
    module.write_text(
        'def f():\n    """Do it.\n\n    Example:\n        ```pycon\n        >>> f()\n        ```\n    """\n'
    )
    with pytest.raises(ValueError, match=r'```pycon is not run as an example'):
        docstring_blocks(module, module.parent)


@pytest.mark.parametrize('block', RUNS, ids=[run.id + ('-openai' if run.with_key else '') for run in RUNS])
def test_docstring_example_runs(block: Block, llm: OpenAICompatibleServer, tmp_path: Path, request: Any) -> None:
    env: dict[str, str] = {}
    if re.search(r'^\s*(from|import) (temporalio|durable_temporal)\b', block.code, re.MULTILINE):
        env['TEMPORAL_ADDRESS'] = request.getfixturevalue('temporal_dev_server').target
    if re.search(r'^\s*(from|import) (prefect|durable_prefect)\b', block.code, re.MULTILINE):
        env['PREFECT_API_URL'] = request.getfixturevalue('prefect_server').api_url
    requests_before = llm.calls.total
    done = run_example(block.code, cwd=tmp_path, llm=llm if block.with_key else None, env=env, timeout=240)
    failure = f'{block.where}\n{block.code}\n--- stderr ---\n{done.stderr[-4000:]}'
    if not aborted_in_temporal_finalization(done):
        assert done.returncode == 0, failure
    if 'print(' in block.code:
        assert done.stdout.strip(), f'the example printed nothing: is its main() called?\n{failure}'
    if block.with_key and 'Agent(' in block.code:
        assert llm.calls.total > requests_before, f'with OPENAI_API_KEY set, the example did not use OpenAI\n{failure}'
