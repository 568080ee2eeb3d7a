"""The example runner: `python_blocks` finds every Python fence or fails; `aborted_in_temporal_finalization` lets
through only temporalio's exit abort, on real processes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from durable_core.testing import aborted_in_temporal_finalization, python_blocks, run_example

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


def test_python_blocks_are_the_plain_python_fences(tmp_path: Path) -> None:
    readme = tmp_path / 'README.md'
    readme.write_text(
        '# Title\n\n'
        '```python\nprint(1)\n```\n\n'
        '```bash\npip install x\n```\n\n'
        '- in a list:\n\n'
        '  ```python\n  if True:\n      print(2)\n  ```\n\n'
        'Inline: ```` ```python ```` is not a fence.\n\n'
        '```text\n```python\n```\n'
    )
    assert python_blocks(readme) == ['print(1)\n', 'if True:\n    print(2)\n']


@pytest.mark.parametrize(
    'info', ['python notest', 'python {test="typecheck"}', 'Python', 'python3 skip', 'py{x}', 'pycon', 'python-repl']
)
def test_a_python_fence_that_would_not_run_fails(info: str, tmp_path: Path) -> None:
    readme = tmp_path / 'README.md'
    readme.write_text(f'# Title\n\n```python\nprint(1)\n```\n\n```{info}\nprint(2)\n```\n')
    with pytest.raises(ValueError, match=rf'README\.md:7: ```{re.escape(info)} is not run'):
        python_blocks(readme)
