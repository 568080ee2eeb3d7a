"""Runs agents on Temporal against the local OpenAI-compatible server, for the fault and secrets suites.

Usage: temporal_provider.py FORM MODE BASE_URL TEMPORAL_TARGET OUT_JSON
FORM `wrapper`: the workflow runs a `TemporalAgent`. FORM `capability`: the agent is built with `TemporalDurability`
(the wrapper's arguments) and the workflow calls its own `agent.run()`.
MODE `faults`: ten runs of a model-tool-model agent while the server injects faults; SDK retries are
off, so every retry is a Temporal activity retry. MODE `bad_request`: one run that the server answers with 400.
MODE `secrets`: one run with an API key and a custom header, for the test to search the workflow history.
Every run is one workflow, run by a worker in this process; the report lists the workflow ids. Every
model-request attempt is counted at its source, so the test can compare with the server's count. The report also
lists the activities each workflow scheduled (`units`), proof that the run was durable.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

form, mode, base_url, target, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], Path(sys.argv[5])
os.environ['DURABLE_TESTS_PROVIDER_URL'] = base_url  # read by the workflow module, when it builds the agent

from _capability import parse_form  # noqa: E402
from _provider import drive  # noqa: E402
from _temporal import exit_now, original_type, raised_error  # noqa: E402
from _temporal_provider_workflow import CapabilityProviderWorkflow, ProviderWorkflow  # noqa: E402
from durable_temporal import PydanticAIPlugin  # noqa: E402
from temporalio.client import Client, WorkflowFailureError  # noqa: E402
from temporalio.worker import Worker  # noqa: E402


@dataclass
class Result:
    output: str


async def activities(client: Client, workflow_id: str) -> list[str]:
    """The activity types the workflow scheduled, in order."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField('activity_task_scheduled_event_attributes')
    ]


async def main() -> dict[str, Any]:
    workflow_run = ProviderWorkflow.run if parse_form(form) == 'wrapper' else CapabilityProviderWorkflow.run
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    task_queue = f'provider-{mode}-{uuid.uuid4().hex}'
    workflow_ids: list[str] = []

    async def run(prompt: str) -> Result:
        workflow_ids.append(f'{task_queue}-{len(workflow_ids)}')
        try:
            return Result(
                await client.execute_workflow(
                    workflow_run,
                    prompt,
                    id=workflow_ids[-1],
                    task_queue=task_queue,
                    run_timeout=timedelta(minutes=3),
                )
            )
        except WorkflowFailureError as failure:
            raise raised_error(failure) from failure

    async with Worker(client, task_queue=task_queue, workflows=[ProviderWorkflow, CapabilityProviderWorkflow]):
        report = await drive(mode, run, error_type=original_type)
    units = [unit for workflow_id in workflow_ids for unit in await activities(client, workflow_id)]
    return {**report, 'workflow_ids': workflow_ids, 'containers': len(workflow_ids), 'units': units}


out.write_text(json.dumps(asyncio.run(main())))
exit_now()
