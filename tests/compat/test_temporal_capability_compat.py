"""Ours against PydanticAI 2.68's `durable_exec`: the capability form on Temporal, `TemporalDurability` (issue 15).

`_temporal_dropin_capability.py` runs with either capability (through `temporal_dropin.py`, a process each): a run
in a workflow that lists the agent, one with `run(model='fast')`, and one outside any workflow. Both must give the
same outputs, requests and tool calls counted at their source, and events. The activity names differ, deliberately:
ours are our wrapper's (`<agent>.model_request`), so a deploy can move between `TemporalAgent` and
`TemporalDurability`.

Each wrapper program of `test_temporal_dropin_compat.py` has its capability-form twin, `<program>_capability`: the same
program run in the capability form (the driver's FORM argument), which builds its agent with
`Agent(..., capabilities=[TemporalDurability(...)])` where the wrapper form has `TemporalAgent(agent, ...)`; the driver
fails a program that builds none. Both implementations run it and are compared the same way. A program with no twin is
in `NO_CAPABILITY_TWIN`, with the reason, which the summary shows. The twin of `temporal_pai_fidelity.py`'s wrapper form
is its capability form, run with either capability and compared value for value (and units counted at their source).
The twins of the Temporal names tests of `test_dropin_names_dbos_temporal_compat.py` are on the capability's arguments:
every argument of 2.68's `TemporalDurability` is ours, or refused by ours (`REFUSED_ARGUMENTS`).
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import fidelity
import pytest
from _capability_report import IN_WORKFLOW, capability_steps
from _pai import quiet_deprecations
from _summary import compat_difference
from _temporal_dropin_api import IMPLEMENTATIONS
from test_fidelity_compat import _same, _theirs  # pyright: ignore[reportPrivateUsage]
from test_temporal_dropin_compat import COMPAT_DIR, PROGRAMS, _run  # pyright: ignore[reportPrivateUsage]

quiet_deprecations()

NO_CAPABILITY_TWIN = {
    'passthrough': 'builds no agent: it imports in workflow code what the plugin passes through, in either form',
}
"""Wrapper programs with no capability-form twin, and why."""

CAPABILITY_TWINS = sorted(f'{program}_capability' for program in PROGRAMS if program not in NO_CAPABILITY_TWIN)
"""The wrapper programs run in the capability form, `<wrapper program>_capability`."""


def test_a_capability_agent_runs_the_same_with_both(
    temporal_dev_server: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    theirs = _run('pai', 'capability', temporal_dev_server.target, tmp_path, form='capability')
    ours = _run('ours', 'capability', temporal_dev_server.target, tmp_path, form='capability')
    assert theirs['in_workflow'] == IN_WORKFLOW
    assert theirs['model_fast']['output'] == 'fast answer'
    for part in ('in_workflow', 'model_fast', 'outside'):
        assert ours[part] == theirs[part], part
    assert ours['in_workflow_activities'] == capability_steps(
        'capability_compat',
        'model_request',
        'event_handler',
        'tool_call.agent.lookup',
        'event_handler',
        'model_request',
    )
    assert ours['model_fast_activities'] == capability_steps('capability_compat', 'model_request')
    compat_difference(
        request.node.nodeid, "deliberate: activity names are our wrapper's, as TemporalAgent's (migrating.md)"
    )


@pytest.mark.parametrize('program', CAPABILITY_TWINS)
def test_capability_twin_observes_the_same_with_both(program: str, temporal_dev_server: Any, tmp_path: Path) -> None:
    wrapper_program = program.removesuffix('_capability')
    theirs = _run('pai', wrapper_program, temporal_dev_server.target, tmp_path, form='capability')
    ours = _run('ours', wrapper_program, temporal_dev_server.target, tmp_path, form='capability')
    assert ours == theirs


def test_every_wrapper_program_has_a_capability_twin_or_a_reason(request: pytest.FixtureRequest) -> None:
    twinned = {program.removesuffix('_capability') for program in CAPABILITY_TWINS}
    # A twin is the program's capability form, not a copy of it in a file of its own.
    assert not list(COMPAT_DIR.glob('_temporal_dropin_*_capability.py'))
    assert twinned <= set(PROGRAMS)
    assert sorted(twinned | set(NO_CAPABILITY_TWIN)) == sorted(PROGRAMS)
    assert not twinned & set(NO_CAPABILITY_TWIN)
    for program, reason in NO_CAPABILITY_TWIN.items():
        compat_difference(f'{request.node.nodeid}[{program}]', f'no capability twin: {reason}')


@pytest.fixture(scope='module')
def fidelity_capability(tmp_path_factory: pytest.TempPathFactory, temporal_dev_server: Any) -> dict[str, Any]:
    """The fidelity program's reports with each implementation's `TemporalDurability`, by implementation."""
    return {
        implementation: _theirs(
            'temporal_pai_fidelity.py',
            implementation,
            'capability',
            temporal_dev_server.target,
            directory=tmp_path_factory.mktemp(f'fidelity-capability-{implementation}'),
        )
        for implementation in IMPLEMENTATIONS
    }


PAI_TOOL_DATES = (
    "2.68's bug, in its TemporalDurability as in its TemporalAgent: a tool's return reaches the workflow as plain "
    "JSON, so the date in the tool's result comes back as a str in all_messages() (ours keeps the date)"
)


@pytest.mark.parametrize('key', ['reference', 'replayed_reference', 'pair_reference', 'pair_replayed_reference'])
def test_fidelity_capability_same_results_with_both(
    key: str, fidelity_capability: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    """The twin of `test_temporal_same_results_as_pydantic_ai`: a workflow's run and its replay; single and pair."""
    ours, theirs = fidelity_capability['ours'], fidelity_capability['pai']
    # Units counted at their source: a run's two model requests and a tool call per city, once; a replay, none.
    runs = len(fidelity.PAIR) if key.startswith('pair') else 1
    assert theirs[f'{key}:units'] == (0 if 'replayed' in key else runs * (2 + len(fidelity.CITIES)))
    assert ours[f'{key}:units'] == theirs[f'{key}:units']
    comparison = _same(ours, theirs, key)
    assert comparison.compared > 0
    # Only 2.68's bug, in each run's messages (not a strict xfail: that would hide any other difference).
    date_as_str = "messages of the run (unstamped): [2].parts[0].content['valid_until']: str where date was expected"
    assert len(comparison.differences) == runs
    assert all(date_as_str in difference for difference in comparison.differences), comparison.differences
    compat_difference(request.node.nodeid, PAI_TOOL_DATES)


REFUSED_ARGUMENTS: dict[str, Any] = {'event_stream_topic': 'events'}
"""2.68's `TemporalDurability` arguments that ours does not take (migrating.md), each with a value 2.68 builds with."""


def test_every_capability_argument_of_2_68_is_ours_or_refused() -> None:
    """The twin of `test_every_name_of_2_68_imports_from_ours`, for the capability's arguments."""
    theirs, ours = (
        set(inspect.signature(importlib.import_module(module).TemporalDurability.__init__).parameters)
        for module in IMPLEMENTATIONS.values()
    )
    assert theirs - ours == set(REFUSED_ARGUMENTS)


@pytest.mark.parametrize('argument', sorted(REFUSED_ARGUMENTS))
def test_capability_arguments_2_68_takes_and_ours_refuses(argument: str, request: pytest.FixtureRequest) -> None:
    """The twin of `test_names_of_parts_we_do_not_have_build_in_2_68_and_refuse_in_ours`, for the capability."""
    theirs, ours = (importlib.import_module(module) for module in IMPLEMENTATIONS.values())
    theirs.TemporalDurability(**{argument: REFUSED_ARGUMENTS[argument]})
    with pytest.raises(TypeError, match=argument):
        ours.TemporalDurability(**{argument: REFUSED_ARGUMENTS[argument]})
    compat_difference(
        request.node.nodeid, f'deliberate: ours does not take TemporalDurability({argument}=) (migrating.md)'
    )
