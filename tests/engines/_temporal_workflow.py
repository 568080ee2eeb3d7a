"""The workflow of temporal_driver.py: one generic workflow that runs any scenario's `drive` inside Temporal.

The workflow sandbox imports this module again for every workflow run, so it builds every scenario's agent at
import time, the same way in the driver process and in the sandbox; agent names do not depend on anything else.
Activities run in the driver process, on the agents built there, whose call logs the driver reports.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from durable_temporal import PydanticAIWorkflow, TemporalAgent
from temporalio import workflow

with workflow.unsafe.sandbox_unrestricted():
    _TESTS = str(Path(__file__).parents[1])
    if _TESTS not in sys.path:
        sys.path.insert(0, _TESTS)

from scenarios import SCENARIOS, Built

ENGINE = 'temporal'


def _build() -> dict[str, tuple[Built, list[str], TemporalAgent[Any, Any]]]:
    built: dict[str, tuple[Built, list[str], TemporalAgent[Any, Any]]] = {}
    for scenario in SCENARIOS:
        calls: list[str] = []
        scenario_built = scenario.build(f'{scenario.name}_{ENGINE}', calls)
        # Every function tool an activity (the default): the promise is that no activity-wrapped call runs twice.
        built[scenario.name] = (
            scenario_built,
            calls,
            TemporalAgent(scenario_built.agent, models=scenario_built.models),
        )
    return built


BUILT = _build()


@workflow.defn
class ScenarioWorkflow(PydanticAIWorkflow):
    """Runs one scenario's `drive` (one or more agent runs) with the scenario's `TemporalAgent`."""

    __pydantic_ai_agents__ = [durable for _, _, durable in BUILT.values()]

    @workflow.run
    async def run(self, scenario: str) -> dict[str, Any]:
        built, _, durable = BUILT[scenario]
        try:
            return {'outcome': await built.drive(durable.run), 'error': None}
        except Exception as error:  # reported, so the test shows which scenario failed and why
            return {'outcome': None, 'error': f'{type(error).__name__}: {error}\n{traceback.format_exc()[-2000:]}'}
