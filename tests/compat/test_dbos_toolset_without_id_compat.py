"""Ours against PydanticAI 2.68's `durable_exec`: a `FunctionToolset` without an id on DBOS (issue 14, item 11).

`dbos_toolset_without_id.py wrapper` runs one program with either wrapper, on SQLite. Both must accept the toolset, run
its tool once, in workflow code (no step of its own), and return the same output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _dbos_program import dbos_program_report


@pytest.mark.parametrize('impl', ['pydantic_ai', 'ours'])
def test_a_function_toolset_without_id_runs_its_tools_in_workflow_code(impl: str, tmp_path: Path) -> None:
    report = dbos_program_report('dbos_toolset_without_id.py', impl, tmp_path, 'wrapper')
    assert 'error' not in report, report['error']
    assert report['output'] == 'done'
    assert report['tool_runs'] == ['a']
    assert not any('lookup' in step for step in report['steps'])
    assert sum('model' in step or 'request' in step for step in report['steps']) == 2
