"""Ours against PydanticAI 2.68's `durable_exec`: the DBOS and Temporal names 2.68 code imports (issue 14, item 17).

Every name in 2.68's `durable_exec.dbos` and `durable_exec.temporal` `__all__` imports from ours. `DBOSModel` runs one
program with either implementation (`dbos_dropin_model.py`): the same outputs, step names, requests and cancellation.
`TemporalRunContext` and `run_context_type=` run in `test_temporal_dropin_compat.py` (program `run_context_type`).
Deliberate differences (in `docs/pages/migrating.md`): the names of 2.68's capability form, operation namers,
toolset wrapper and workflow event streams are refused by ours when built or called, naming our way.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from _dbos_program import dbos_program_report
from _pai import quiet_deprecations
from _summary import compat_difference
from pydantic_ai import UserError

quiet_deprecations()

MODULES = {
    'dbos': ('pydantic_ai.durable_exec.dbos', 'durable_dbos'),
    'temporal': ('pydantic_ai.durable_exec.temporal', 'durable_temporal'),
}

NEW_IN_2_78 = {'resolve_external_event', 'fail_external_event'}
"""Names PydanticAI 2.78 added (external events in a Temporal workflow), which ours lacks: the migrating table lists
them as *none (2.78)*; every 2.68 name must import from ours."""

REFUSED = {
    'dbos': {'DBOSOperationNamer': lambda: {'agent_name': 'support'}},
    'temporal': {
        'TemporalOperationNamer': lambda: {'agent_name': 'support'},
        'WorkflowStreamTopic': lambda: {'name': 'events'},
        'workflow_stream_event_handler': lambda: {'topic': 'events'},
    },
}


@pytest.mark.parametrize('engine', sorted(MODULES))
def test_every_name_of_2_68_imports_from_ours(engine: str) -> None:
    theirs, ours = (importlib.import_module(name) for name in MODULES[engine])
    missing = set(theirs.__all__) - set(ours.__all__) - NEW_IN_2_78
    assert missing == set()
    for name in theirs.__all__:
        assert name not in ours.__all__ or hasattr(ours, name)


@pytest.mark.parametrize(('engine', 'name'), [(engine, name) for engine in REFUSED for name in REFUSED[engine]])
def test_names_of_parts_we_do_not_have_build_in_2_68_and_refuse_in_ours(
    engine: str, name: str, request: pytest.FixtureRequest
) -> None:
    theirs, ours = (importlib.import_module(module) for module in MODULES[engine])
    arguments: dict[str, Any] = REFUSED[engine][name]()
    getattr(theirs, name)(**arguments)
    with pytest.raises(UserError):
        getattr(ours, name)(**arguments)
    compat_difference(request.node.nodeid, f'deliberate: ours refuses {name}, naming our way (migrating.md)')


def test_dbos_model_runs_the_same_with_both(tmp_path: Path) -> None:
    theirs = dbos_program_report('dbos_dropin_model.py', 'pydantic_ai', tmp_path)
    ours = dbos_program_report('dbos_dropin_model.py', 'ours', tmp_path)
    assert theirs['cancel']['steps'] == ['compat__model.cancel_suspended_response']
    assert ours == theirs
