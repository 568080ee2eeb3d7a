"""Ours against PydanticAI 2.68's `durable_exec`: `@agent.toolset` without an `id` on DBOS (issue 14, item 13).

`dbos_dynamic_toolset_id.py wrapper` runs one program with either wrapper, on SQLite: both must wrap the agent and run
the dynamic toolset's tool. Deliberate difference (in `docs/pages/migrating.md`): 2.68's `DBOSAgent` runs a dynamic
toolset's tools in workflow code, unjournaled; ours journals each call as a step named after the toolset id, which for a
toolset without one is derived from its function's qualified name (`toolset_call_tool.user_tools`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _dbos_program import dbos_program_report
from _summary import compat_difference


def _report(impl: str, directory: Path) -> dict[str, Any]:
    return dbos_program_report('dbos_dynamic_toolset_id.py', impl, directory, 'wrapper')


@pytest.mark.parametrize('impl', ['pydantic_ai', 'ours'])
def test_a_dynamic_toolset_without_id_runs(impl: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    report = _report(impl, tmp_path)
    assert 'error' not in report, report['error']
    assert (report['output'], report['seen']) == ('{"greet":"hello Ada"}', ['Ada'])
    tool_steps = [step for step in report['steps'] if 'model' not in step]
    if impl == 'pydantic_ai':
        assert tool_steps == []  # its tools run in workflow code
    else:
        assert tool_steps == ['dynamic_no_id.toolset_call_tool.user_tools']
        compat_difference(
            request.node.nodeid,
            "deliberate: 2.68 runs a dynamic toolset's tools in workflow code (not journaled); ours journals each call",
        )
