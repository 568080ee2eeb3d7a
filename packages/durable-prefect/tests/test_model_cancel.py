"""A background (suspended) response a run gives up on is cancelled from the task `<agent>.model_cancel`, once.

The model answers with a job still running whose first segment already exceeds the run's token limit, so PydanticAI
gives up on it and calls `Model.cancel_suspended_response`. The run fails, so its flow is retried: the retry loads the
request and the cancel from storage, and neither requests nor cancels again.
"""

from __future__ import annotations

import pytest
from durable_core.testing import BackgroundJobModel
from durable_prefect import PrefectAgent
from prefect import flow
from prefect.context import get_run_context
from pydantic_ai import Agent, UsageLimitExceeded
from pydantic_ai.usage import UsageLimits
from support import read_subflow_runs, read_task_runs

LIMITS = UsageLimits(output_tokens_limit=10)


async def test_an_abandoned_background_response_is_cancelled_in_one_task_and_not_again_on_retry() -> None:
    model = BackgroundJobModel()
    prefect_agent = PrefectAgent(Agent(model, name='cancel_job'))
    outer_ids: list[str] = []

    @flow(retries=1)
    async def outer() -> None:
        outer_ids.append(str(get_run_context().flow_run.id))  # type: ignore[union-attr]
        await prefect_agent.run('Think hard.', usage_limits=LIMITS)

    with pytest.raises(UsageLimitExceeded):
        await outer()
    assert model.requests == 1
    assert [(r.state, r.provider_response_id) for r in model.cancelled] == [('suspended', 'job-1')]

    # Two attempts of the flow, each with a subflow run of the agent; the second loaded both tasks from storage.
    subflows = sorted(await read_subflow_runs(outer_ids[0]), key=lambda run: run.expected_start_time or 0)
    assert [run.state_name for run in subflows] == ['Failed', 'Failed']
    states: list[list[tuple[str, str | None]]] = []
    for subflow in subflows:
        tasks = await read_task_runs(subflow.id, count=2)
        states.append([(task.name.rsplit('-', 1)[0], task.state_name) for task in tasks])
    assert states == [
        [('cancel_job.model_request', 'Completed'), ('cancel_job.model_cancel', 'Completed')],
        [('cancel_job.model_request', 'Cached'), ('cancel_job.model_cancel', 'Cached')],
    ]
