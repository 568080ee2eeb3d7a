"""The README's demo runs as written: a worker is SIGKILLed mid-run and a second one finishes the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).parents[3] / 'docs' / 'examples' / 'dbos_crash_demo.py'


def test_demo_kills_a_worker_and_finishes_without_repeating_completed_steps(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != 'OPENAI_API_KEY'}
    env['DEMO_DIR'] = str(tmp_path)
    done = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    out = done.stdout
    assert 'worker 1 killed with SIGKILL in the middle of book_hotel' in out
    assert out.count('replayed from the log') == 5
    assert '6. tool book_hotel(Lisbon, 3)   ran again: it was in flight when worker 1 died' in out
    assert '7. model request                ran now, in worker 2' in out
    assert 'Result: Lisbon is sunny: flight TP 1234 is booked for Friday, and Hotel Miradouro for three nights.' in out
    assert out.rstrip().endswith('Completed steps that ran twice: 0.')
