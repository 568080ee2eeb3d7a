"""The workflows of temporal_driver.py: a generic workflow that runs any scenario's `drive` inside Temporal, per form.

The workflow sandbox imports this module again for every workflow run, so it builds every scenario's agent at
import time, the same way in the driver process and in the sandbox; agent names do not depend on anything else.
Activities run in the driver process, on the agents built there, whose call logs the driver reports.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from temporalio import workflow

with workflow.unsafe.sandbox_unrestricted():
    _TESTS = str(Path(__file__).parents[1])
    if _TESTS not in sys.path:
        sys.path.insert(0, _TESTS)

import scenarios
from scenarios import SCENARIOS, Built

ENGINE = 'temporal'
CAPABILITY_ENGINE = 'temporal_capability'
"""The capability form's agents (`TemporalDurability`) are named `<scenario>_temporal_capability`."""


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


def _build_capability_form() -> dict[str, tuple[Built, list[str]]]:
    built: dict[str, tuple[Built, list[str]]] = {}
    # The capability with the wrapper's arguments above.
    scenarios.CAPABILITIES = lambda models: [TemporalDurability(models=models)]
    try:
        for scenario in SCENARIOS:
            calls: list[str] = []
            built[scenario.name] = (scenario.build(f'{scenario.name}_{CAPABILITY_ENGINE}', calls), calls)
    finally:
        scenarios.CAPABILITIES = None
    return built


BUILT_CAPABILITY_FORM = _build_capability_form()


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


@workflow.defn
class CapabilityScenarioWorkflow(PydanticAIWorkflow):
    """Runs one scenario's `drive` with its agent's own `run()`: the agent has `TemporalDurability`."""

    __pydantic_ai_agents__ = [built.agent for built, _ in BUILT_CAPABILITY_FORM.values()]

    @workflow.run
    async def run(self, scenario: str) -> dict[str, Any]:
        built, _ = BUILT_CAPABILITY_FORM[scenario]
        runs = 0

        async def run_in_this_workflow(prompt: Any, **kwargs: Any) -> Any:
            nonlocal runs
            runs += 1
            return await built.agent.run(prompt, **kwargs)

        try:
            return {'outcome': await built.drive(run_in_this_workflow), 'error': None, 'runs': runs}
        except Exception as error:  # reported, so the test shows which scenario failed and why
            return {
                'outcome': None,
                'error': f'{type(error).__name__}: {error}\n{traceback.format_exc()[-2000:]}',
                'runs': runs,
            }
