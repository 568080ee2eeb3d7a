"""Import time of each package on top of its engine and pydantic-ai, each sample in a fresh interpreter.

"Its engine" is what every user of that engine imports: `dbos`, `prefect`, and Temporal's client and worker (the
top-level `temporalio` package is nearly empty, and both integrations import `temporalio.client` and
`temporalio.worker` for their plugins).
"""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from ._stats import median


@dataclass(frozen=True)
class ImportCase:
    key: str
    module: str
    engine: str
    ours: bool


_TEMPORAL = 'temporalio.client, temporalio.worker, temporalio.workflow'

CASES = (
    ImportCase('durable_dbos', 'durable_dbos', 'dbos', True),
    ImportCase('pai.dbos', 'pydantic_ai.durable_exec.dbos', 'dbos', False),
    ImportCase('durable_temporal', 'durable_temporal', _TEMPORAL, True),
    ImportCase('pai.temporal', 'pydantic_ai.durable_exec.temporal', _TEMPORAL, False),
    ImportCase('durable_prefect', 'durable_prefect', 'prefect', True),
    ImportCase('pai.prefect', 'pydantic_ai.durable_exec.prefect', 'prefect', False),
)

# The baseline (engine, pydantic-ai) is imported first and not timed; then the package alone is timed.
_TIMER = """
import importlib, sys, time
import {engine}, pydantic_ai
start, start_cpu = time.perf_counter(), time.process_time()
importlib.import_module({module!r})
print(time.perf_counter() - start, time.process_time() - start_cpu)
"""

# -X importtime reports each module once, when first imported: what follows the marker is the package's own cost.
_IMPORTTIME = """
import sys
import {engine}, pydantic_ai
sys.stderr.write('--- bench marker ---\\n')
import {module}
"""


def _python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, '-c', code], capture_output=True, text=True, timeout=300, check=False
    )


def import_seconds(case: ImportCase) -> tuple[float, float]:
    """Wall and CPU seconds of importing `case.module` in a fresh interpreter (CPU: steadier on a loaded machine)."""
    result = _python(_TIMER.format(engine=case.engine, module=case.module))
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'import failed')
    wall, cpu = result.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def top_imports(case: ImportCase, top: int = 6) -> list[dict[str, Any]]:
    """The modules with the largest self time that importing `case.module` loads."""
    result = _python(_IMPORTTIME.format(engine=case.engine, module=case.module), '-X', 'importtime')
    lines = result.stderr.split('--- bench marker ---\n', 1)[-1].splitlines()
    rows: list[dict[str, Any]] = []
    for line in lines:
        if not line.startswith('import time:') or '|' not in line or 'self [us]' in line:
            continue
        self_us, cumulative_us, name = (part.strip() for part in line.removeprefix('import time:').split('|'))
        rows.append({'module': name, 'self_ms': int(self_us) / 1000, 'cumulative_ms': int(cumulative_us) / 1000})
    return sorted(rows, key=lambda row: -row['self_ms'])[:top]


def measure(
    reps: int,
    cases: list[ImportCase] | tuple[ImportCase, ...] = CASES,
    seed: int = 0,
    warmup: bool = True,
    top: bool = True,
) -> dict[str, Any]:
    """Median import seconds per case, cases interleaved in a shuffled order each repetition."""
    rng = random.Random(seed)
    samples: dict[str, list[tuple[float, float]]] = {case.key: [] for case in cases}
    errors: dict[str, str] = {}
    for case in cases if warmup else ():  # warm-up: byte-compile, fill the OS file cache
        try:
            import_seconds(case)
        except RuntimeError as error:
            errors[case.key] = str(error)
    working = [case for case in cases if case.key not in errors]
    for _ in range(reps):
        rng.shuffle(working)
        for case in list(working):
            try:
                samples[case.key].append(import_seconds(case))
            except RuntimeError as error:
                errors[case.key] = str(error)
                working.remove(case)
    out: dict[str, Any] = {}
    for case in cases:
        if case.key in errors:
            out[case.key] = {'module': case.module, 'engine': case.engine, 'error': errors[case.key]}
        else:
            out[case.key] = {
                'module': case.module,
                'engine': case.engine,
                'median_s': median([wall for wall, _ in samples[case.key]]),
                'cpu_median_s': median([cpu for _, cpu in samples[case.key]]),
                'samples_s': samples[case.key],
            }
            if case.ours and top:
                out[case.key]['top_modules'] = top_imports(case)
    return out
