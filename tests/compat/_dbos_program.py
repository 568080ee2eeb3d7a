"""Run one DBOS comparison program in a process of its own, with 2.68's `durable_exec` or ours, and read its report.

A program is called as `python PROGRAM [FORM] IMPL SQLITE_URL OUT_JSON` and writes what it observed to OUT_JSON.
FORM is given to a program that runs in both forms: `wrapper` (`DBOSAgent(agent)`) or `capability`
(`Agent(..., capabilities=[DBOSDurability()])`). Such a program reads its arguments with `program_arguments()` and
builds its agent with `durability()` and `durable()`, so that both forms run the same code but for the constructor.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from durable_core.testing import PreloadedPython

COMPAT_DIR = Path(__file__).parent
IMPLS = ('pydantic_ai', 'ours')
"""2.68's `durable_exec`, or ours."""
FORMS = ('wrapper', 'capability')
"""`DBOSAgent(agent)`, or `Agent(..., capabilities=[DBOSDurability()])`."""
MODULES = {'pydantic_ai': 'pydantic_ai.durable_exec.dbos', 'ours': 'durable_dbos'}


def dbos_program_report(program: str, impl: str, directory: Path, form: str | None = None) -> dict[str, Any]:
    """What `program` (a file in tests/compat) observed when run with `impl` (in `form`) on a fresh SQLite database."""
    run = impl if form is None else f'{form}-{impl}'
    out = directory / f'{run}.json'
    # PydanticAI and the engines preloaded, neither implementation: the program imports the one it runs.
    done = PreloadedPython.shared(PreloadedPython.LIBRARY_MODULES).run(
        [
            sys.executable,
            str(COMPAT_DIR / program),
            *([] if form is None else [form]),
            impl,
            f'sqlite:///{directory / f"{run}.sqlite"}',
            out,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f'{program} {run} failed:\n{done.stderr[-4000:]}'
    return json.loads(out.read_text())


def program_arguments() -> tuple[str, str, str, str]:
    """A program's `FORM IMPL SQLITE_URL OUT_JSON`, checked: a misspelt form must not run the other one."""
    form, impl, db_url, out = sys.argv[1:5]
    if form not in FORMS or impl not in IMPLS:
        raise SystemExit(f'usage: {sys.argv[0]} {"|".join(FORMS)} {"|".join(IMPLS)} SQLITE_URL OUT_JSON')
    return form, impl, db_url, out


def durability(impl: str, form: str, **config: Any) -> list[Any]:
    """The agent's capabilities: `[DBOSDurability(**config)]` (2.68's or ours) in the capability form, else none."""
    return [importlib.import_module(MODULES[impl]).DBOSDurability(**config)] if form == 'capability' else []


def durable(impl: str, form: str, agent: Any, **config: Any) -> Any:
    """What the program runs: `DBOSAgent(agent, **config)` (2.68's or ours) in the wrapper form, else the agent."""
    return importlib.import_module(MODULES[impl]).DBOSAgent(agent, **config) if form == 'wrapper' else agent
