"""The misuse table on Temporal: each case is tried, and the error and what was journaled are reported.

Usage: temporal_misuse.py TEMPORAL_TARGET OUT_JSON. Cases refused when an agent is wrapped or a worker is made run
here; cases refused in a run each run one workflow (`_temporal_misuse_workflow.MisuseWorkflow`) on the dev server,
whose error is the one the workflow failed with. What a case journaled is counted through the client: the
activities scheduled in the histories of this driver's workflows. The table ends with a valid run, as a control
that the count sees what a run journals, and with an output larger than the payload limit, which cannot be refused
before the model request that makes it: the report adds how many attempts that request made.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from _misuse import Case, construct, construction_cases, run_cases, run_time_cases
from _temporal import exit_now, original_type, raised_error
from _temporal_misuse_workflow import MisuseWorkflow, TwinsWorkflow
from durable_temporal import PydanticAIPlugin, TemporalAgent
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker

TASK_QUEUE = f'misuse-{uuid.uuid4().hex}'
OVERSIZE = 'output larger than the payload limit'
workflow_ids: list[str] = []


def sync_tool() -> str:
    return 'sync'


def sync_tool_inline() -> Any:
    return TemporalAgent(
        Agent(TestModel(), name='m_inline', tools=[sync_tool]), tool_activity_config={'agent': {'sync_tool': False}}
    )


async def main(target: str, out: Path) -> None:
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])

    async def in_workflow(case: str) -> Any:
        workflow_ids.append(f'{TASK_QUEUE}-{case}')
        try:
            return await client.execute_workflow(
                MisuseWorkflow.run,
                case,
                id=workflow_ids[-1],
                task_queue=TASK_QUEUE,
                execution_timeout=timedelta(seconds=30),  # a case that retried its workflow task forever shows
            )
        except WorkflowFailureError as failure:
            raise raised_error(failure) from failure

    async def journaled() -> int:
        count = 0
        for workflow_id in workflow_ids:
            async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
                count += event.HasField('activity_task_scheduled_event_attributes')
        return count

    cases = [
        *construction_cases(TemporalAgent),
        Case(
            'duplicate agent name',
            construct(lambda: Worker(client, task_queue=TASK_QUEUE, workflows=[TwinsWorkflow])),
            "Give each agent its own name: Agent(..., name='...')",
        ),
        Case(
            'unknown activity config key',
            construct(lambda: TemporalAgent(Agent(TestModel(), name='m_cfg'), activity_config={'retry': 3})),  # type: ignore[typeddict-unknown-key]
            'the keys are',
        ),
        Case('sync tool configured inline', construct(sync_tool_inline), 'async def'),
        *run_time_cases(in_workflow, 'TemporalAgent', in_process=False),
        Case('run_sync inside a workflow', lambda: in_workflow('run_sync'), 'await agent.run'),
        Case('run_stream inside a workflow', lambda: in_workflow('run_stream'), 'event_stream_handler'),
        Case('run_stream_events inside a workflow', lambda: in_workflow('run_stream_events'), 'event_stream_handler'),
        Case('override of the model inside a workflow', lambda: in_workflow('override'), 'models='),
        Case('realtime session inside a workflow', lambda: in_workflow('realtime'), 'outside the workflow'),
        Case('a valid run (control)', lambda: in_workflow('control'), ''),
        Case(OVERSIZE, lambda: in_workflow('oversize'), 'Make it smaller'),
    ]
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[MisuseWorkflow]):
        results = await run_cases('temporal', cases, journaled, original_type)
    oversize = next(result for result in results if result['case'] == OVERSIZE)
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in client.get_workflow_handle(f'{TASK_QUEUE}-oversize').fetch_history_events()
        if event.HasField('activity_task_started_event_attributes')
    ]
    oversize['model_request_attempts'] = max(attempts, default=0)
    out.write_text(json.dumps(results))


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
    exit_now()
