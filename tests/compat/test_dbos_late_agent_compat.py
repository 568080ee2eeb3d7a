"""Ours against PydanticAI 2.68's `durable_exec`: a `DBOSAgent` created after `DBOS.launch()` (issue 14, item 10).

`dbos_late_agent.py wrapper` runs one program with either wrapper, on SQLite. Both must create the agent, run it under a
workflow id, and read its result back through DBOS's handle; both must warn that DBOS may not recover its workflows.
Deliberate difference (in `docs/pages/migrating.md`): 2.68's warning is DBOS's log line for a configured instance
registered after launch; ours is a Python warning, `durable_dbos.CreatedAfterLaunchWarning`, that names the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _dbos_program import dbos_program_report
from _summary import compat_difference

OUTPUT = 'success (no tool calls)'


def _late_agent_report(impl: str, directory: Path) -> dict[str, Any]:
    return dbos_program_report('dbos_late_agent.py', impl, directory, 'wrapper')


@pytest.mark.parametrize('impl', ['pydantic_ai', 'ours'])
def test_dbos_agent_created_after_launch_runs_with_a_warning(
    impl: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    report = _late_agent_report(impl, tmp_path)
    assert 'late_agent_error' not in report, report['late_agent_error']
    assert (report['output'], report['status'], report['retrieved']) == (OUTPUT, 'SUCCESS', OUTPUT)
    if impl == 'pydantic_ai':
        assert report['late_agent_python_warnings'] == []
        assert any('registered after DBOS was launched' in line for line in report['late_agent_dbos_warnings'])
    else:
        assert report['late_agent_dbos_warnings'] == []
        [warning] = report['late_agent_python_warnings']
        assert warning['category'] == 'CreatedAfterLaunchWarning'
        assert 'may not recover' in warning['message']
        assert 'before calling DBOS.launch()' in warning['message']
        compat_difference(
            request.node.nodeid,
            "deliberate: ours warns with CreatedAfterLaunchWarning (a Python warning), 2.68 with DBOS's log line",
        )
