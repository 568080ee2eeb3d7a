"""Ours against PydanticAI 2.68's `durable_exec`: `run(event_stream_handler=...)` on DBOS (issue 14, item 11).

`dbos_run_time_handler.py wrapper` runs one program with either wrapper, on SQLite: an agent with no handler of its own
is run with a handler passed to `run()`, from outside any workflow and from workflow code. Both must deliver the model's
events and the tool's call and result events to that handler, run the tool once per run, and return the same outputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _dbos_program import dbos_program_report

TOOL_EVENTS = ['FunctionToolCallEvent', 'FunctionToolResultEvent']


@pytest.mark.parametrize('impl', ['pydantic_ai', 'ours'])
def test_a_handler_passed_to_run_sees_the_runs_events(impl: str, tmp_path: Path) -> None:
    report = dbos_program_report('dbos_run_time_handler.py', impl, tmp_path, 'wrapper')
    for where in ('outside', 'inside'):
        run = report[where]
        assert 'error' not in run, run['error']
        assert run['output'] == 'done', where
        assert [event for event in run['events'] if event != 'model event'] == TOOL_EVENTS, where
        assert 'model event' in run['events'], where
    assert len(report['tool_runs']) == 2
