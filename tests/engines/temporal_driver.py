"""Runs every conformance scenario on Temporal. Usage: temporal_driver.py FORM TEMPORAL_TARGET OUT_JSON.

FORM is `wrapper` (each scenario agent in a `TemporalAgent`) or `capability` (each built with `TemporalDurability`,
its own `agent.run()` called in the workflow; the report then adds the activities each workflow scheduled, `units`,
and how many agent runs it made, `containers`: every run is contained in the scenario's one workflow).

A worker in this process serves one generic workflow (`_temporal_workflow.ScenarioWorkflow`) that runs a
scenario's `drive` in workflow code, so a scenario that makes several agent runs (human in the loop, message
history) makes them all in one workflow. Each scenario is one workflow on the dev server at TEMPORAL_TARGET.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from _capability import parse_form
from _temporal import exit_now
from _temporal_workflow import BUILT, BUILT_CAPABILITY_FORM, CapabilityScenarioWorkflow, ScenarioWorkflow
from durable_temporal import PydanticAIPlugin
from scenarios import summarise_calls
from temporalio.client import Client
from temporalio.worker import Worker


async def _activities(client: Client, workflow_id: str) -> list[str]:
    """The activity types the workflow scheduled, in order."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField('activity_task_scheduled_event_attributes')
    ]


async def main(form: str, target: str, out: Path) -> None:
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    task_queue = f'conformance-{uuid.uuid4().hex}'
    report: dict[str, Any] = {}
    capability_form = form == 'capability'
    workflow_run = CapabilityScenarioWorkflow.run if capability_form else ScenarioWorkflow.run
    scenario_calls = {name: built[1] for name, built in (BUILT_CAPABILITY_FORM if capability_form else BUILT).items()}
    async with Worker(client, task_queue=task_queue, workflows=[ScenarioWorkflow, CapabilityScenarioWorkflow]):
        for name, calls in scenario_calls.items():
            workflow_id = f'conformance-{name}-{uuid.uuid4().hex}'
            try:
                result = await client.execute_workflow(
                    workflow_run,
                    name,
                    id=workflow_id,
                    task_queue=task_queue,
                    run_timeout=timedelta(minutes=3),
                )
                error = result['error']
                activities = await _activities(client, workflow_id)
                if error is None and not activities:
                    error = 'the workflow scheduled no activity: the scenario did not run through Temporal'
                report[name] = {'outcome': result['outcome'], 'calls': summarise_calls(calls), 'error': error}
                if capability_form:
                    report[name].update(units=activities, containers=result['runs'])
            except Exception as error:
                report[name] = {
                    'outcome': None,
                    'calls': summarise_calls(calls),
                    'error': f'{type(error).__name__}: {error}',
                }
    out.write_text(json.dumps(report, default=str))


if __name__ == '__main__':
    asyncio.run(main(parse_form(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
    exit_now()
