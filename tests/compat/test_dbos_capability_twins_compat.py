"""Ours against PydanticAI 2.68's `durable_exec`: the DBOS wrapper programs in the capability form (issue 15).

Each `dbos_<program>.py` that takes a FORM runs here as `dbos_<program>.py capability`: `DBOSDurability` on a plain
`Agent` in place of `DBOSAgent`, its runs in the app's own workflow; it runs with 2.68's capability and with ours, on
SQLite. Both must give the same outputs, what the tools saw, tool calls counted at their source, events and warnings.
Step names are not compared (ours are our wrapper's, a deliberate difference `test_dbos_capability_compat.py`
records); step counts are. Deliberate differences (in `docs/pages/migrating.md`): a dynamic toolset added by
`@agent.toolset` after the agent is built is refused by 2.68's capability, and run and journaled by ours, as by our
`DBOSAgent`; an agent with `register_legacy_workflows=True` created after `DBOS.launch()` warns in ours
(`CreatedAfterLaunchWarning`, as our `DBOSAgent`), and not in 2.68. The fidelity program's capability form
(`dbos_pai_fidelity.py capability`) is compared in `test_fidelity_capability_compat.py`. A wrapper program with no
capability form is in `NO_CAPABILITY_TWIN`, with the reason, which the summary shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import test_dropin_names_compat
import test_dropin_names_dbos_temporal_compat
from _dbos_program import COMPAT_DIR, dbos_program_report
from _summary import compat_difference

TOOL_EVENTS = ['FunctionToolCallEvent', 'FunctionToolResultEvent']

PROGRAMS = sorted(
    path.stem.removeprefix('dbos_')
    for path in COMPAT_DIR.glob('dbos_*.py')
    if not path.stem.startswith('dbos_capability')
)
"""The DBOS wrapper programs, `dbos_<program>.py`."""

CAPABILITY_TWINS = sorted(
    program
    for program in PROGRAMS
    if f'Usage: dbos_{program}.py FORM ' in (COMPAT_DIR / f'dbos_{program}.py').read_text()
)
"""Those that also run in the capability form: their usage line says they take a FORM (`wrapper` or `capability`)."""

NO_CAPABILITY_TWIN = {
    'dropin_model': "DBOSModel built by hand around a model is the wrapper's part; the capability builds its own steps",
    'test_dbos_parallel_execution_mode_names_the_two_modes': 'a type alias; no agent, in either form',
    'test_every_name_of_2_68_imports_from_ours': 'names only, DBOSDurability among them; no agent',
    'test_names_of_parts_we_do_not_have_build_in_2_68_and_refuse_in_ours': 'names only (DBOSOperationNamer); no agent',
}
"""DBOS wrapper programs (`dbos_<program>.py`) and in-process DBOS tests with no capability form, and why."""


def _reports(program: str, directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """2.68's report and ours for `dbos_<program>.py capability`."""
    name = f'dbos_{program}.py'
    return (
        dbos_program_report(name, 'pydantic_ai', directory, 'capability'),
        dbos_program_report(name, 'ours', directory, 'capability'),
    )


def _model_steps(steps: list[str]) -> int:
    return sum('model' in step for step in steps)


def test_a_function_toolset_without_id_runs_its_tools_in_workflow_code(tmp_path: Path) -> None:
    theirs, ours = _reports('toolset_without_id', tmp_path)
    assert 'error' not in theirs, theirs['error']
    assert (theirs['output'], theirs['tool_runs']) == ('done', ['a'])
    for report in (theirs, ours):
        assert not any('lookup' in step for step in report['steps'])  # no step of its own
        assert _model_steps(report['steps']) == len(report['steps']) == 2
    assert {**ours, 'steps': None} == {**theirs, 'steps': None}


def test_a_dynamic_toolset_without_id_added_after_the_agent(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    theirs, ours = _reports('dynamic_toolset_id', tmp_path)
    assert theirs['error'].startswith('UserError: DynamicToolset cannot be added at runtime with DBOS')
    assert 'not via a post-construction `@agent.toolset`' in theirs['error']
    assert 'error' not in ours, ours['error']
    assert (ours['output'], ours['seen']) == ('{"greet":"hello Ada"}', ['Ada'])
    assert [step for step in ours['steps'] if 'model' not in step] == ['dynamic_no_id.toolset_call_tool.user_tools']
    compat_difference(
        request.node.nodeid,
        "deliberate: 2.68's capability refuses @agent.toolset added after the agent; ours runs and journals it",
    )


def test_a_handler_passed_to_run_sees_the_runs_events(tmp_path: Path) -> None:
    theirs, ours = _reports('run_time_handler', tmp_path)
    for where in ('outside', 'inside'):
        run = theirs[where]
        assert run['output'] == 'done', where
        assert [event for event in run['events'] if event != 'model event'] == TOOL_EVENTS, where
        assert 'model event' in run['events'], where
        assert ours[where] == run, where
    assert theirs['tool_runs'] == ours['tool_runs'] == ['a', 'a']
    assert _model_steps(theirs['steps']) == _model_steps(ours['steps']) == len(ours['steps']) == 2


def test_an_agent_created_after_launch(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    theirs, ours = _reports('late_agent', tmp_path)
    assert 'late_agent_error' not in theirs, theirs['late_agent_error']
    output = 'success (no tool calls)'
    assert (theirs['output'], theirs['status'], theirs['retrieved']) == (output, 'SUCCESS', output)
    # Registering no workflow of its own, the capability is as good created late as early: nobody warns.
    for key in ('late_agent_python_warnings', 'run_warnings', 'late_agent_dbos_warnings'):
        assert theirs[key] == [], key
    assert len(theirs['steps']) == len(ours['steps']) == 1
    # With the wrapper's workflows registered (after launch, so DBOS may not recover them): 2.68 is silent.
    assert theirs['late_legacy_python_warnings'] == theirs['late_legacy_dbos_warnings'] == []
    [warning] = ours.pop('late_legacy_python_warnings')
    assert warning['category'] == 'CreatedAfterLaunchWarning'
    assert 'before calling DBOS.launch()' in warning['message']
    del theirs['late_legacy_python_warnings']
    assert {**ours, 'steps': None} == {**theirs, 'steps': None}
    compat_difference(
        request.node.nodeid,
        'deliberate: register_legacy_workflows=True after DBOS.launch(): ours warns (CreatedAfterLaunchWarning)',
    )


def test_override_inside_a_workflow(tmp_path: Path) -> None:
    theirs, ours = _reports('override', tmp_path)
    assert theirs == {
        'deps': {'output': '{"whoami":"you are Grace"}', 'seen': ['Grace']},
        'own model': {'output': '{"whoami":"you are Ada"}', 'seen': ['Ada']},
        # Unlike 2.68's DBOSAgent, which ignores override(toolsets=...), its capability applies them.
        'no toolsets': {'output': 'success (no tool calls)', 'seen': []},
        'a new toolset': {'output': '{"unjournaled":"ran"}', 'seen': []},
    }
    assert ours == theirs


def test_every_dbos_wrapper_program_has_a_capability_twin_or_a_reason(request: pytest.FixtureRequest) -> None:
    assert set(CAPABILITY_TWINS) <= set(PROGRAMS)
    in_process = {name for name in NO_CAPABILITY_TWIN if name.startswith('test_')}
    for name in in_process:  # a test of 2.68's names, beside the wrapper programs: it must exist
        assert any(
            hasattr(module, name) for module in (test_dropin_names_compat, test_dropin_names_dbos_temporal_compat)
        )
    assert sorted({*CAPABILITY_TWINS, *NO_CAPABILITY_TWIN} - in_process) == PROGRAMS
    assert not set(CAPABILITY_TWINS) & set(NO_CAPABILITY_TWIN)
    for program, reason in NO_CAPABILITY_TWIN.items():
        compat_difference(f'{request.node.nodeid}[{program}]', f'no capability twin: {reason}')
