"""Runs every conformance scenario on Temporal. Usage: temporal_driver.py TEMPORAL_TARGET OUT_JSON.

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

from _temporal import exit_now
from _temporal_workflow import BUILT, ScenarioWorkflow
from durable_temporal import PydanticAIPlugin
from scenarios import summarise_calls
from temporalio.client import Client
from temporalio.worker import Worker


async def _activities(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(event.HasField('activity_task_scheduled_event_attributes') for event in history.events)


async def main(target: str, out: Path) -> None:
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    task_queue = f'conformance-{uuid.uuid4().hex}'
    report: dict[str, Any] = {}
    async with Worker(client, task_queue=task_queue, workflows=[ScenarioWorkflow]):
        for name, (_, calls, _) in BUILT.items():
            workflow_id = f'conformance-{name}-{uuid.uuid4().hex}'
            try:
                result = await client.execute_workflow(
                    ScenarioWorkflow.run,
                    name,
                    id=workflow_id,
                    task_queue=task_queue,
                    run_timeout=timedelta(minutes=3),
                )
                error = result['error']
                if error is None and await _activities(client, workflow_id) == 0:
                    error = 'the workflow scheduled no activity: the scenario did not run through Temporal'
                report[name] = {'outcome': result['outcome'], 'calls': summarise_calls(calls), 'error': error}
            except Exception as error:
                report[name] = {
                    'outcome': None,
                    'calls': summarise_calls(calls),
                    'error': f'{type(error).__name__}: {error}',
                }
    out.write_text(json.dumps(report, default=str))


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
    exit_now()
