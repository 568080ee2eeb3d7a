"""A check of a package's public API: `__all__` sorted, unique, defined, and naming every public name."""

from __future__ import annotations

import ast
import re
import types
from pathlib import Path
from typing import cast

__all__ = ['public_api_problems']


def _ruff_order(name: str) -> tuple[int, list[tuple[int, int | str]]]:
    """RUF022's isort-style key: SCREAMING_CASE, then CamelCase, then the rest; natural order within each."""
    group = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    parts = re.split(r'(\d+)', name)
    return group, [(1, int(p)) if p.isdigit() else (0, p) for p in parts if p]


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names bound at the top level, except by `import x`, `from __future__` and `if TYPE_CHECKING:` blocks."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ImportFrom) and node.module != '__future__':
                names.update(alias.asname or alias.name for alias in node.names if alias.name != '*')
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(found.id for found in ast.walk(target) if isinstance(found, ast.Name))
            elif isinstance(node, ast.If):
                if ast.unparse(node.test) not in ('TYPE_CHECKING', 'typing.TYPE_CHECKING'):
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


def public_api_problems(module: types.ModuleType) -> list[str]:
    """What is wrong with a package's `__all__`: nothing, when the list is empty.

    It must be a sorted (ruff RUF022 order) sequence of unique strings, each defined, and it must name
    every public name the package's `__init__` binds.

    Args:
        module: The imported package.
    """
    exported: object = getattr(module, '__all__', None)
    if not isinstance(exported, list | tuple):
        return [f'{module.__name__}.__all__ must be a list of strings']
    names = [name for name in cast('list[object] | tuple[object, ...]', exported) if isinstance(name, str)]
    if len(names) != len(cast('list[object] | tuple[object, ...]', exported)):
        return [f'{module.__name__}.__all__ must be a list of strings']
    problems: list[str] = []
    if len(set(names)) != len(names):
        problems.append('duplicates in __all__')
    if names != sorted(names, key=_ruff_order):
        problems.append('sort __all__ (ruff check --select RUF022 --fix)')
    missing = [name for name in names if not hasattr(module, name)]
    if missing:
        problems.append(f'in __all__ but not defined: {missing}')
    # What the import bound (submodules aside), and what the source binds, for names hidden by a failed import.
    public = {
        name for name, value in vars(module).items() if name[:1] != '_' and not isinstance(value, types.ModuleType)
    }
    source_file: str | None = getattr(module, '__file__', None)
    if source_file is not None:
        public |= {name for name in _top_level_names(ast.parse(Path(source_file).read_text())) if name[:1] != '_'}
    unexported = sorted(public - set(names) - {'annotations', 'TYPE_CHECKING'})
    if unexported:
        problems.append(f'missing from {module.__name__}.__all__ (export them, or prefix them with _): {unexported}')
    return problems
