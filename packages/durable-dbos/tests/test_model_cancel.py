"""A background (suspended) response a run gives up on is cancelled from the step `<agent>.model_cancel`, once.

The model answers with a job still running whose first segment already exceeds the run's token limit, so PydanticAI
gives up on it and calls `Model.cancel_suspended_response`. A fork of the workflow from after its last step executes
the workflow again over the journaled steps, as recovery does: it neither requests nor cancels again.
"""

from __future__ import annotations

import json
import uuid

import pytest
from _support import step_names
from dbos import DBOS, SetWorkflowID
from durable_core.testing import BackgroundJobModel
from durable_dbos import DBOSAgent
from pydantic_ai import Agent, UsageLimitExceeded
from pydantic_ai.usage import UsageLimits

LIMITS = UsageLimits(output_tokens_limit=10)


model = BackgroundJobModel()
dbos_agent = DBOSAgent(Agent(model, name='cancel_job'))  # at import time, before DBOS.launch()


async def test_an_abandoned_background_response_is_cancelled_in_one_step_and_not_again_on_recovery(dbos: DBOS) -> None:
    model.requests, model.cancelled = 0, []
    workflow_id = f'cancel-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id), pytest.raises(UsageLimitExceeded):
        await dbos_agent.run('Think hard.', usage_limits=LIMITS)
    assert await step_names(workflow_id) == ['cancel_job.model_request', 'cancel_job.model_cancel']
    assert model.requests == 1
    assert [(r.state, r.provider_response_id) for r in model.cancelled] == [('suspended', 'job-1')]
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    assert json.loads(steps[-1]['output']) is None

    forked = await DBOS.fork_workflow_async(workflow_id, max(step['function_id'] for step in steps) + 1)
    with pytest.raises(UsageLimitExceeded):
        await forked.get_result()
    assert await step_names(forked.workflow_id) == ['cancel_job.model_request', 'cancel_job.model_cancel']
    assert model.requests == 1
    assert len(model.cancelled) == 1
