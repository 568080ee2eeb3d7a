"""Drop-in program: a `UserError` raised in workflow code fails the workflow, recognizable by its type `UserError`.

`run_stream()` inside a workflow is refused by both implementations (2.68 with PydanticAI's `UserError`, ours with
`NotInDurableUnitError`, a subclass). Observed: the workflow fails at once, and its cause is an `ApplicationError`
of type `UserError`, which is what code handling a failed workflow checks.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel
    from temporalio.client import Client, WorkflowFailureError
    from temporalio.exceptions import ApplicationError
    from temporalio.worker import Worker


refused = api.TemporalAgent(Agent(TestModel(), name='dropin_user_error'))


@workflow.defn
class UserErrorWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [refused]

    @workflow.run
    async def run(self) -> str:
        async with refused.run_stream('Stream it') as stream:
            return await stream.get_output()


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    async with Worker(client, task_queue=task_queue, workflows=[UserErrorWorkflow]):
        try:
            await client.execute_workflow(
                UserErrorWorkflow.run,
                id=f'dropin-user-error-{uuid.uuid4()}',
                task_queue=task_queue,
                run_timeout=timedelta(seconds=60),
            )
        except WorkflowFailureError as failure:
            cause = failure.cause
            return {
                'failed': True,
                'cause': type(cause).__name__,
                'type': cause.type if isinstance(cause, ApplicationError) else None,
            }
    return {'failed': False}
