"""Ours against PydanticAI 2.68's `durable_exec`: `run(event_stream_handler=...)` in a workflow, capability form.

`_temporal_dropin_run_time_handler.py` runs with either `TemporalDurability` (through `temporal_dropin.py`, a process
each): an agent with one tool and no handler of its own runs in a workflow with a handler passed to `run()`. The
wrapper refuses that handler; the capability form accepts it, by design as 2.68's does, since no capability hook sees
it. Both must run the handler in workflow code and give it the same events in the same order: each model response's
events, replayed from the response after its request's activity (so a part comes whole, with no delta), and the tool's
call and result. The run must schedule the same activities (no activity for the handler) and its history must replay,
on a worker that caches the workflow and on one that replays it at each workflow task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_temporal_dropin_compat import _run  # pyright: ignore[reportPrivateUsage]

EVENTS = [
    'PartStartEvent',  # the first response: its tool call
    'PartEndEvent',
    'FunctionToolCallEvent',
    'FunctionToolResultEvent',
    'PartStartEvent',  # the second response: its text, the output
    'FinalResultEvent',
    'PartEndEvent',
]
"""The kinds of the events 2.68's capability gives a handler passed to `run()`, in order."""


def test_a_handler_passed_to_run_in_a_workflow_gets_the_same_events_with_both(
    temporal_dev_server: Any, tmp_path: Path
) -> None:
    theirs = _run('pai', 'run_time_handler', temporal_dev_server.target, tmp_path, form='capability')
    ours = _run('ours', 'run_time_handler', temporal_dev_server.target, tmp_path, form='capability')
    for part in ('cached', 'uncached'):
        assert theirs[part] == {
            'output': 'the answer',
            'events': EVENTS,
            'in_workflow': [True],
            'tool_runs': 1,
            'activities': 3,  # two model requests and the tool call
            'replay_failure': None,
        }, part
    assert ours == theirs
