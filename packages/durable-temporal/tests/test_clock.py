"""Requests built in a workflow are stamped with `workflow.now()`, not the system clock.

On the time-skipping test server the workflow sleeps a month before each run, so workflow time and the system
clock are a month apart: a request stamped by the system clock falls outside the run's window of workflow time.
"""

from __future__ import annotations

import uuid

from _wf_clock import ClockReport, ClockWorkflow
from durable_temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker


async def test_requests_carry_workflow_time(time_skipping_env: WorkflowEnvironment, task_queue: str) -> None:
    config = time_skipping_env.client.config()
    config['plugins'] = [PydanticAIPlugin()]
    client = Client(**config)
    async with Worker(client, task_queue=task_queue, workflows=[ClockWorkflow]):
        handle = await client.start_workflow(ClockWorkflow.run, id=f'clock-{uuid.uuid4()}', task_queue=task_queue)
        report: ClockReport = await handle.result()
    first, second = report.requests[: report.first_count], report.requests[report.first_count :]
    assert len(first) == len(second) == 2  # each run: the prompt, then the tool's return
    for times in first:  # the history the second run was given keeps the first run's times
        assert report.first_start <= times.request <= report.first_end
        assert all(report.first_start <= part <= report.first_end for part in times.parts)
    for times in second:
        assert report.second_start <= times.request <= report.second_end
        assert all(report.second_start <= part <= report.second_end for part in times.parts)
    await Replayer(workflows=[ClockWorkflow], plugins=[PydanticAIPlugin()]).replay_workflow(
        await handle.fetch_history()
    )
