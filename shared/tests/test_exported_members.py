"""``durable_core.__all__``: sorted (ruff RUF022 order), and naming every public name its ``__init__`` defines."""

from __future__ import annotations

import ast
import importlib
import re
import types
from pathlib import Path

import pytest

MODULE = 'durable_core'


def _ruff_order(name: str) -> tuple[int, list[tuple[int, int | str]]]:
    """RUF022's isort-style key: SCREAMING_CASE, then CamelCase, then the rest; natural order within each."""
    group = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    parts = re.split(r'(\d+)', name)
    return group, [(1, int(p)) if p.isdigit() else (0, p) for p in parts if p]


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names bound at the top level, except by ``import x``, ``from __future__`` and ``if TYPE_CHECKING:`` blocks."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ImportFrom) and node.module != '__future__':
                names.update(a.asname or a.name for a in node.names if a.name != '*')
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if test not in ('TYPE_CHECKING', 'typing.TYPE_CHECKING'):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return names


@pytest.fixture(scope='module')
def module() -> types.ModuleType:
    return importlib.import_module(MODULE)


def test_all_is_a_sorted_list_of_unique_strings(module: types.ModuleType) -> None:
    exported = module.__all__
    assert isinstance(exported, list | tuple)
    assert all(isinstance(name, str) for name in exported)
    assert len(set(exported)) == len(exported), 'duplicates in __all__'
    assert list(exported) == sorted(exported, key=_ruff_order), 'sort __all__ (ruff check --select RUF022 --fix)'


def test_all_names_exist(module: types.ModuleType) -> None:
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f'in __all__ but not defined: {missing}'


def test_every_public_name_is_exported(module: types.ModuleType) -> None:
    assert module.__file__ is not None
    source = Path(module.__file__).read_text()
    defined = {name for name in _top_level_names(ast.parse(source)) if not name.startswith('_')}
    # Also what the import actually bound (minus submodules, which become attributes by being imported).
    runtime = {
        name
        for name, value in vars(module).items()
        if not name.startswith('_') and not isinstance(value, types.ModuleType)
    }
    ignored = {'annotations', 'TYPE_CHECKING'}
    unexported = sorted((defined | runtime) - set(module.__all__) - ignored)
    assert not unexported, f'missing from {MODULE}.__all__ (export them, or prefix them with _): {unexported}'
