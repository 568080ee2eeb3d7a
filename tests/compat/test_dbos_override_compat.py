"""Ours against PydanticAI 2.68's `durable_exec`: `override()` inside a DBOS workflow (issue 14, item 12).

`dbos_override.py wrapper` runs one program with either wrapper, on SQLite. Both must run with overridden deps (the
tools see them) and with the wrapper's own model. Deliberate differences (in `docs/pages/migrating.md`): 2.68's
`DBOSAgent` ignores `override(toolsets=...)` (its runs keep the toolsets it was built with); ours applies toolsets the
agent has, and refuses one it does not have, which would have no step: `NotInDurableUnitError` naming the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _dbos_program import dbos_program_report
from _summary import compat_difference

GRACE = {'output': '{"whoami":"you are Grace"}', 'seen': ['Grace']}
ADA = {'output': '{"whoami":"you are Ada"}', 'seen': ['Ada']}


def _report(impl: str, directory: Path) -> dict[str, Any]:
    return dbos_program_report('dbos_override.py', impl, directory, 'wrapper')


@pytest.mark.parametrize('impl', ['pydantic_ai', 'ours'])
def test_override_inside_a_workflow(impl: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    report = _report(impl, tmp_path)
    assert report['deps'] == GRACE
    assert report['own model'] == ADA
    if impl == 'pydantic_ai':
        assert report['no toolsets'] == ADA  # ignored
        assert report['a new toolset'] == ADA  # ignored
    else:
        assert report['no toolsets'] == {'output': 'success (no tool calls)', 'seen': []}
        error = report['a new toolset']['error']
        assert error.startswith(
            'NotInDurableUnitError: override(model=..., toolsets=...) is not supported inside a DBOS'
        )
        assert 'Agent(..., toolsets=[...])' in error
        compat_difference(
            request.node.nodeid,
            'deliberate: override(toolsets=...) in a workflow: 2.68 ignores it; ours applies known ones, refuses new',
        )
