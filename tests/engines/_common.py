"""What every engine driver shares: build each scenario, run it through the engine, report JSON; the kill agent."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from durable_core.testing import ScriptedModel, Step, ToolCall
from pydantic_ai import Agent
from pydantic_ai.capabilities import AbstractCapability
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


KILL_UNIT_SECONDS = 0.15
KILL_PROMPT = 'Fetch a and b.'
KILL_OUTPUT = 'a=1, b=2'


def kill_agent(record: Callable[[str], None], capabilities: Sequence[AbstractCapability[Any]] = ()) -> Agent[None, str]:
    """The kill trials' 5-step run (model, tool, model, tool, model), each unit slow.

    Each unit calls `record('start:<unit>:<pid>')` at its source before it works, with units named
    `model:1`, `tool:a`, `model:2`, `tool:b`, `model:3`; the run's output is `KILL_OUTPUT`.
    `capabilities`: a durability capability, in the capability form (`Agent(..., capabilities=[...])`); the agent's
    name is `kill_trials` in both forms, so both journal the same unit names.
    """

    def slow(label: str) -> None:
        record(f'start:{label}:{os.getpid()}')
        time.sleep(KILL_UNIT_SECONDS)

    model = ScriptedModel(
        [
            Step(tool_calls=[ToolCall('fetch', {'key': 'a'}, 'f1')], before=lambda: slow('model:1')),
            Step(tool_calls=[ToolCall('fetch', {'key': 'b'}, 'f2')], before=lambda: slow('model:2')),
            Step(text=KILL_OUTPUT, before=lambda: slow('model:3')),
        ],
        position='history',
    )
    agent = Agent(model, name='kill_trials', capabilities=list(capabilities) or None)

    @agent.tool_plain
    def fetch(key: str) -> int:
        slow(f'tool:{key}')
        return {'a': 1, 'b': 2}[key]

    return agent
