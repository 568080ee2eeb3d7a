"""`aborted_in_temporal_finalization` lets through only temporalio's exit abort, on real processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from durable_core.testing import aborted_in_temporal_finalization, run_example

_FINALIZATION_ABORT = (
    'Fatal Python error: PyGILState_Release: thread state 0x7fd5e0003320 must be current when releasing\n'
    'Python runtime state: finalizing (tstate=0x00007fd5f9b76ef8)\n'
)


def _program(stderr: str, *, end: str) -> str:
    return f'import os, sys\nprint("done")\nsys.stderr.write({stderr!r})\nsys.stderr.flush()\n{end}\n'


def test_the_abort_after_the_work_is_let_through(tmp_path: Path) -> None:
    done = run_example(_program(_FINALIZATION_ABORT, end='os.abort()'), cwd=tmp_path)
    assert aborted_in_temporal_finalization(done)
    assert done.stdout == 'done\n'


@pytest.mark.parametrize(
    ('stderr', 'end'),
    [
        pytest.param(_FINALIZATION_ABORT, 'sys.exit(1)', id='same message, other exit'),
        pytest.param('Fatal Python error: Segmentation fault\n', 'os.abort()', id='other abort'),
        pytest.param(
            'Traceback (most recent call last):\n' + _FINALIZATION_ABORT, 'os.abort()', id='after a traceback'
        ),
        pytest.param('', 'pass', id='clean exit'),
    ],
)
def test_anything_else_is_not(stderr: str, end: str, tmp_path: Path) -> None:
    done = run_example(_program(stderr, end=end), cwd=tmp_path)
    assert not aborted_in_temporal_finalization(done)
