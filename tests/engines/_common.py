"""What every engine driver shares: build each scenario, run it through the engine, report JSON."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from scenarios import SCENARIOS, Built, RunFn, summarise_calls

Prepared = tuple[str, Built, list[str], Any]
"""(scenario name, built scenario, its call log, the engine's durable wrapper)."""


async def run_all(
    engine: str,
    wrap: Callable[[str, Built], Any],
    runner: Callable[[Any], RunFn],
    out: Path,
    launch: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Wrap every scenario's agent first (engines register before they start), then run each, then report."""
    prepared: list[Prepared] = []
    for scenario in SCENARIOS:
        calls: list[str] = []
        built = scenario.build(f'{scenario.name}_{engine}', calls)
        prepared.append((scenario.name, built, calls, wrap(scenario.name, built)))
    if launch is not None:
        await launch()
    report: dict[str, Any] = {}
    for name, built, calls, durable in prepared:
        try:
            outcome = await built.drive(runner(durable))
            report[name] = {'outcome': outcome, 'calls': summarise_calls(calls), 'error': None}
        except Exception as error:  # reported, so the test shows which scenario failed and why
            report[name] = {
                'outcome': None,
                'calls': summarise_calls(calls),
                'error': f'{type(error).__name__}: {error}\n{traceback.format_exc()[-2000:]}',
            }
    out.write_text(json.dumps(report, default=str))
