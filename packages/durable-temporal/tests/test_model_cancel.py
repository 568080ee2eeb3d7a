"""A background (suspended) response a run gives up on is cancelled from the activity `<agent>.model_cancel`, once.

The worker rebuilds the run's model and cancels through it; replaying the history schedules the same activity again
(no non-determinism) and does not cancel the job again.
"""

from __future__ import annotations

import uuid

from _temporal_support import activity_inputs, activity_types, plugin_client_fixture  # noqa: F401
from _wf_model_cancel import BackgroundJobWorkflow, background_model, cancel_temporal
from durable_temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Replayer, Worker


async def test_an_abandoned_background_response_is_cancelled_in_one_activity_and_not_on_replay(
    plugin_client: Client, task_queue: str
) -> None:
    background_model.requests, background_model.cancelled = 0, []
    assert 'cancel_job.model_cancel' in cancel_temporal.activities_by_name  # registered by the plugin
    async with Worker(plugin_client, task_queue=task_queue, workflows=[BackgroundJobWorkflow]):
        handle = await plugin_client.start_workflow(
            BackgroundJobWorkflow.run, 'Think hard.', id=f'cancel-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'gave up: UsageLimitExceeded'
    assert await activity_types(handle) == ['cancel_job.model_request', 'cancel_job.model_cancel']
    # The activity gets the response as JSON, and no model key (the run used the agent's own model).
    name, (response, model_key) = (await activity_inputs(handle))[1]
    assert name == 'cancel_job.model_cancel'
    assert (response['state'], response['provider_response_id'], model_key) == ('suspended', 'job-1', None)
    assert background_model.requests == 1
    assert [(r.state, r.provider_response_id) for r in background_model.cancelled] == [('suspended', 'job-1')]

    history = await handle.fetch_history()
    await Replayer(workflows=[BackgroundJobWorkflow], plugins=[PydanticAIPlugin()]).replay_workflow(history)
    assert background_model.requests == 1
    assert len(background_model.cancelled) == 1
