"""Run one DBOS comparison program in a process of its own, with 2.68's wrapper or ours, and read its report.

A program is called as `python PROGRAM IMPL SQLITE_URL OUT_JSON` and writes what it observed to OUT_JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

COMPAT_DIR = Path(__file__).parent


def dbos_program_report(program: str, impl: str, directory: Path) -> dict[str, Any]:
    """What `program` (a file in tests/compat) observed when run with `impl` on a fresh SQLite database."""
    out = directory / f'{impl}.json'
    done = subprocess.run(
        [sys.executable, str(COMPAT_DIR / program), impl, f'sqlite:///{directory / f"{impl}.sqlite"}', out],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f'{program} {impl} failed:\n{done.stderr[-4000:]}'
    return json.loads(out.read_text())
