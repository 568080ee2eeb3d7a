"""Workflow of test_passthrough.py: imports modules in workflow code and says which module objects it got."""

from __future__ import annotations

from temporalio import workflow


def _module_id(name: str) -> int | str:
    """The `id()` of the module workflow code gets for `name`, or the error a sandboxed re-import raised."""
    try:
        return id(__import__(name, fromlist=['__name__']))
    except Exception as error:  # a module the sandbox re-imports may trip its restrictions
        return f'{type(error).__name__}: {error}'


@workflow.defn
class ImportsWorkflow:
    @workflow.run
    async def run(self, names: list[str]) -> dict[str, int | str]:
        """Each module's `id()` as workflow code imports it (the host's, if the sandbox passes it through)."""
        return {name: _module_id(name) for name in names}
