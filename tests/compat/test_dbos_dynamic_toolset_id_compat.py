"""Ours against PydanticAI 2.68's `durable_exec`: `@agent.toolset` without an `id` on DBOS (issue 14, item 13).

`dbos_dynamic_toolset_id.py` runs one program with either wrapper, on SQLite: both must wrap the agent and run the
dynamic toolset's tool. Deliberate difference (in `docs/pages/migrating.md`): 2.68's `DBOSAgent` runs a dynamic
toolset's tools in workflow code, unjournaled; ours journals each call as a step named after the toolset id, which
for a toolset without one is derived from its function's qualified name (`toolset_call_tool.user_tools`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

COMPAT_DIR = Path(__file__).parent


def _report(impl: str, directory: Path) -> dict[str, Any]:
    out = directory / f'{impl}.json'
    done = subprocess.run(
        [
            sys.executable,
            str(COMPAT_DIR / 'dbos_dynamic_toolset_id.py'),
            impl,
            f'sqlite:///{directory / "dynamic.sqlite"}',
            out,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f'dbos_dynamic_toolset_id.py {impl} failed:\n{done.stderr[-4000:]}'
    return json.loads(out.read_text())


@pytest.mark.parametrize('impl', ['pydantic_ai', 'ours'])
def test_a_dynamic_toolset_without_id_runs(impl: str, tmp_path: Path) -> None:
    report = _report(impl, tmp_path)
    assert 'error' not in report, report['error']
    assert (report['output'], report['seen']) == ('{"greet":"hello Ada"}', ['Ada'])
    tool_steps = [step for step in report['steps'] if 'model' not in step]
    if impl == 'pydantic_ai':
        assert tool_steps == []  # its tools run in workflow code
    else:
        assert tool_steps == ['dynamic_no_id.toolset_call_tool.user_tools']
