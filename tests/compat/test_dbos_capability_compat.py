"""Ours against PydanticAI 2.68's `durable_exec`: the capability form on DBOS, `DBOSDurability` (issue 15).

`dbos_capability.py` runs one program with either capability, on SQLite: a run in the app's workflow, the workflow
forked at its last step (run again from the journal), and a run outside any workflow. Both must give the same
outputs, requests and tool calls counted at their source, and events. The step names differ, deliberately: ours are
our wrapper's (`<agent>.model_request`), so a deploy can move between `DBOSAgent` and `DBOSDurability`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _capability_report import IN_WORKFLOW, MODEL_EVENTS, capability_steps
from _dbos_program import dbos_program_report
from _summary import compat_difference


def test_a_capability_agent_runs_the_same_with_both(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    theirs = dbos_program_report('dbos_capability.py', 'pydantic_ai', tmp_path)
    ours = dbos_program_report('dbos_capability.py', 'ours', tmp_path)
    assert theirs['in_workflow'] == IN_WORKFLOW
    assert theirs['forked'] == {**IN_WORKFLOW, 'model': 1, 'events': MODEL_EVENTS}
    for part in ('in_workflow', 'forked', 'outside'):
        assert ours[part] == theirs[part], part
    assert ours['steps'] == capability_steps(
        'capability_compat', 'model_request', 'event_handler', 'event_handler', 'model_request'
    )
    assert len(theirs['steps']) == len(ours['steps'])
    compat_difference(request.node.nodeid, "deliberate: step names are our wrapper's, as DBOSAgent's (migrating.md)")
