"""Drop-in program: workflow code imports the modules PydanticAI 2.68's plugin passes through, and gets the host's.

The names are read from 2.68's source (the string constants of its `_workflow_runner`), not from its plugin, so the
run with ours never calls 2.68's plugin code. Observed: the installed ones whose module in workflow code is not the
host's (or fails to import there); both implementations must observe none.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import uuid
from pathlib import Path
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from temporalio.client import Client
    from temporalio.worker import Worker


def pai_passthrough_modules() -> list[str]:
    """The modules 2.68's `_workflow_runner` passes through here: its list, and its harness modules if installed."""
    spec = importlib.util.find_spec('pydantic_ai.durable_exec.temporal')
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    runner = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == '_workflow_runner')
    call = next(
        node
        for node in ast.walk(runner)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == 'with_passthrough_modules'
    )
    names = [arg.value for arg in call.args if isinstance(arg, ast.Constant)]
    if _installed('pydantic_ai_harness'):  # 2.68 adds the harness's modules only then
        harness = next(node for node in ast.walk(runner) if isinstance(node, ast.IfExp))
        names += [node.value for node in ast.walk(harness.body) if isinstance(node, ast.Constant)]
    return names


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@workflow.defn
class ImportWorkflow:
    @workflow.run
    async def run(self, names: list[str]) -> dict[str, int | str]:
        found: dict[str, int | str] = {}
        for name in names:
            try:
                found[name] = id(__import__(name, fromlist=['__name__']))
            except Exception as error:
                found[name] = type(error).__name__
        return found


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    names = [name for name in pai_passthrough_modules() if _installed(name)]
    assert {'pydantic_ai', 'attrs', 'google.auth'} <= set(names), names  # the source was read
    host = {name: id(importlib.import_module(name)) for name in names}
    async with Worker(client, task_queue=task_queue, workflows=[ImportWorkflow]):
        found = await client.execute_workflow(
            ImportWorkflow.run, names, id=f'dropin-imports-{uuid.uuid4()}', task_queue=task_queue
        )
    return {'not_the_hosts': sorted(name for name, value in found.items() if value != host[name])}
