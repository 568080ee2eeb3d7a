"""The test rig itself: a tiny workflow + activity on the real dev server and on the time-skipping server."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import activity, workflow
from temporalio.worker import Worker

if TYPE_CHECKING:  # the workflow sandbox re-imports this module: keep its imports light
    from durable_core.testing import TemporalDevServer
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment


@activity.defn
async def rig_shout(text: str) -> str:
    return text.upper() + '!'


@workflow.defn
class RigShoutWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(rig_shout, text, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class RigSleepyWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        await workflow.sleep(timedelta(days=3))
        return await workflow.execute_activity(rig_shout, text, start_to_close_timeout=timedelta(seconds=30))


async def test_dev_server_runs_workflow(
    temporal_dev_server: TemporalDevServer, temporal_client: Client, task_queue: str
) -> None:
    assert temporal_dev_server.target.startswith('127.0.0.1:')
    assert temporal_dev_server.pid is not None
    os.kill(temporal_dev_server.pid, 0)  # alive
    async with Worker(temporal_client, task_queue=task_queue, workflows=[RigShoutWorkflow], activities=[rig_shout]):
        handle = await temporal_client.start_workflow(
            RigShoutWorkflow.run, 'hello', id=f'rig-{task_queue}', task_queue=task_queue
        )
        assert await handle.result() == 'HELLO!'
    history = await handle.fetch_history()
    assert any(event.HasField('activity_task_completed_event_attributes') for event in history.events)


async def test_time_skipping_server_skips_time(time_skipping_env: WorkflowEnvironment, task_queue: str) -> None:
    assert time_skipping_env.supports_time_skipping
    client = time_skipping_env.client
    start = await time_skipping_env.get_current_time()
    async with Worker(client, task_queue=task_queue, workflows=[RigSleepyWorkflow], activities=[rig_shout]):
        result = await client.execute_workflow(
            RigSleepyWorkflow.run, 'later', id=f'rig-sleepy-{task_queue}', task_queue=task_queue
        )
    assert result == 'LATER!'
    assert await time_skipping_env.get_current_time() - start >= timedelta(days=3)
