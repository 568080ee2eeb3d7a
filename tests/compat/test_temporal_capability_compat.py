"""Ours against PydanticAI 2.68's `durable_exec`: the capability form on Temporal, `TemporalDurability` (issue 15).

`_temporal_dropin_capability.py` runs with either capability (through `temporal_dropin.py`, a process each): a run
in a workflow that lists the agent, one with `run(model='fast')`, and one outside any workflow. Both must give the
same outputs, requests and tool calls counted at their source, and events. The activity names differ, deliberately:
ours are our wrapper's (`<agent>.model_request`), so a deploy can move between `TemporalAgent` and
`TemporalDurability`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _summary import compat_difference
from test_temporal_dropin_compat import _run  # pyright: ignore[reportPrivateUsage]


def test_a_capability_agent_runs_the_same_with_both(
    temporal_dev_server: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    theirs = _run('pai', 'capability', temporal_dev_server.target, tmp_path)
    ours = _run('ours', 'capability', temporal_dev_server.target, tmp_path)
    assert theirs['in_workflow'] == {
        'output': 'the answer',
        'model': 2,
        'tool': 1,
        'events': sorted(
            {'PartStartEvent', 'PartDeltaEvent', 'PartEndEvent', 'FinalResultEvent'}
            | {'FunctionToolCallEvent', 'FunctionToolResultEvent'}
        ),
    }
    assert theirs['model_fast']['output'] == 'fast answer'
    for part in ('in_workflow', 'model_fast', 'outside'):
        assert ours[part] == theirs[part], part
    assert ours['in_workflow_activities'] == [
        'capability_compat.model_request',
        'capability_compat.event_handler',
        'capability_compat.tool_call.agent.lookup',
        'capability_compat.event_handler',
        'capability_compat.model_request',
    ]
    assert ours['model_fast_activities'] == ['capability_compat.model_request']
    compat_difference(
        request.node.nodeid, "deliberate: activity names are our wrapper's, as TemporalAgent's (migrating.md)"
    )
