"""Drop-in programs on Temporal (issue 14): each runs with PydanticAI 2.68's `durable_exec` and with ours.

A program (`_temporal_dropin_<name>.py`) is written once against the API both share; `temporal_dropin.py` runs it
in a process of its own per implementation (2.68's plugin and ours each change process-wide state), in the wrapper
form here (`test_temporal_capability_compat.py` runs it in the capability form). Both must succeed and observe the
same things.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from _fidelity_runs import WAIT
from durable_core.testing import PreloadedPython

COMPAT_DIR = Path(__file__).parent
PROGRAMS = [
    'agent_plugin',
    'agent_toolset_id',
    'converter',
    'logfire',
    'passthrough',
    'replay',
    'run_context_type',
    'workflow_failures',
]


def _run(implementation: str, program: str, target: str, directory: Path, form: str = 'wrapper') -> Any:
    # PydanticAI and the engines preloaded, neither implementation: the program imports the one it runs.
    done = PreloadedPython.shared(PreloadedPython.LIBRARY_MODULES).run(
        [sys.executable, str(COMPAT_DIR / 'temporal_dropin.py'), implementation, program, target, str(directory), form],
        capture_output=True,
        text=True,
        timeout=WAIT * 2,
    )
    assert done.returncode == 0, f'{program} ({form}) failed with {implementation}:\n{done.stderr[-4000:]}'
    return json.loads((directory / f'{implementation}.report').read_text())


@pytest.mark.parametrize('program', PROGRAMS)
def test_program_observes_the_same_with_both(program: str, temporal_dev_server: Any, tmp_path: Path) -> None:
    theirs = _run('pai', program, temporal_dev_server.target, tmp_path)
    ours = _run('ours', program, temporal_dev_server.target, tmp_path)
    assert ours == theirs
