"""The misuse table on Temporal: each case is tried, and the error and what was journaled are reported.

Usage: temporal_misuse.py FORM TEMPORAL_TARGET OUT_JSON.
FORM `wrapper`: the cases of `TemporalAgent`. Cases refused when an agent is wrapped or a worker is made run here;
cases refused in a run each run one workflow (`_temporal_misuse_workflow.MisuseWorkflow`) on the dev server, whose
error is the one the workflow failed with. The table ends with a valid run, as a control that the count sees what a
run journals, and with an output larger than the payload limit, which cannot be refused before the model request
that makes it: the report adds how many attempts that request made.
FORM `capability`: their twins in the capability form, `Agent(..., capabilities=[TemporalDurability(...)])`: a bad
config goes to `TemporalDurability`, refused when a worker registers the agent (`AgentPlugin(agent)`); a bad run is
the agent's own `run()` in `CapabilityMisuseWorkflow`. Then the capability form's own misuse, among them a run on a
worker that did not register the agent: that fails the workflow task (not the workflow, which waits for a worker
that registers it), read from the history as it comes; and a valid run as a control.
What a case journaled is counted through the client: the activities scheduled in the histories of this driver's
workflows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from _capability import parse_form
from _misuse import (
    NOT_IN_CAPABILITY_FORM,
    Case,
    capability_construction_cases,
    capability_only_cases,
    construct,
    construction_cases,
    run_cases,
    run_time_cases,
)
from _temporal import exit_now, original_type, raised_error
from _temporal_misuse_workflow import (
    CAPABILITY_AGENT,
    CapabilityMisuseWorkflow,
    CapabilityTwinsWorkflow,
    MisuseWorkflow,
    TwinsWorkflow,
    UnregisteredCapabilityWorkflow,
)
from durable_temporal import AgentPlugin, PydanticAIPlugin, TemporalAgent, TemporalDurability
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
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


def sync_tool_inline_by_metadata() -> Agent[None, str]:
    agent = Agent(TestModel(), name='m_inline', capabilities=[TemporalDurability()])
    agent.tool_plain(metadata={'temporal': False})(sync_tool)  # 2.68's way to keep a tool in the workflow
    return agent


async def main(form: str, target: str, out: Path) -> None:
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    if form == 'capability':
        out.write_text(json.dumps(await capability_table(client)))
        return

    in_workflow = workflow_runner(client, MisuseWorkflow.run, TASK_QUEUE)
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
        results = await run_cases('temporal', cases, lambda: scheduled_activities(client), original_type)
    oversize = next(result for result in results if result['case'] == OVERSIZE)
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in client.get_workflow_handle(f'{TASK_QUEUE}-oversize').fetch_history_events()
        if event.HasField('activity_task_started_event_attributes')
    ]
    oversize['model_request_attempts'] = max(attempts, default=0)
    out.write_text(json.dumps(results))


def workflow_runner(
    client: Client, run: Callable[[Any, str], Awaitable[str]], prefix: str
) -> Callable[[str], Awaitable[Any]]:
    """`in_workflow(case)`: runs the workflow `run` with `case` to its end, raising the error the workflow failed with.

    Each run's id, `prefix` and the case, goes to `workflow_ids`, whose histories `scheduled_activities` counts.
    """

    async def in_workflow(case: str) -> Any:
        workflow_ids.append(f'{prefix}-{case}'.replace(' ', '-'))
        try:
            return await client.execute_workflow(
                run,
                case,
                id=workflow_ids[-1],
                task_queue=TASK_QUEUE,
                execution_timeout=timedelta(seconds=30),  # a case that retried its workflow task forever shows
            )
        except WorkflowFailureError as failure:
            raise raised_error(failure) from failure

    return in_workflow


async def scheduled_activities(client: Client) -> int:
    """The activities scheduled in the histories of this driver's workflows."""
    count = 0
    for workflow_id in workflow_ids:
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            count += event.HasField('activity_task_scheduled_event_attributes')
    return count


async def capability_table(client: Client) -> list[dict[str, Any]]:
    """The capability form's cases, tried with a worker of `CapabilityMisuseWorkflow` running."""
    in_workflow = workflow_runner(client, CapabilityMisuseWorkflow.run, f'{TASK_QUEUE}-capability')

    async def register(agent: Agent[Any, Any]) -> Worker:
        """A worker that registers `agent`, as an application's would: the capability builds its wrapper now."""
        return Worker(client, task_queue=f'{TASK_QUEUE}-{uuid.uuid4().hex}', workflows=[], plugins=[AgentPlugin(agent)])

    async def on_a_worker_that_did_not_register_it() -> None:
        """Its workflow task's first failure, as an error; the workflow waits for another worker, so end it here."""
        workflow_ids.append(f'{TASK_QUEUE}-capability-unregistered')
        handle = await client.start_workflow(
            UnregisteredCapabilityWorkflow.run,
            id=workflow_ids[-1],
            task_queue=TASK_QUEUE,
            execution_timeout=timedelta(seconds=30),  # the history ends then, if the task never failed
        )
        try:
            async for event in handle.fetch_history_events(wait_new_event=True):
                if event.HasField('workflow_task_failed_event_attributes'):
                    failure = event.workflow_task_failed_event_attributes.failure
                    raise ApplicationError(failure.message, type=failure.application_failure_info.type)
        finally:
            with contextlib.suppress(Exception):  # it has ended by itself if it never failed
                await handle.terminate()

    cases = [
        *capability_construction_cases(TemporalDurability, register),
        Case(
            'duplicate agent name',
            construct(lambda: Worker(client, task_queue=TASK_QUEUE, workflows=[CapabilityTwinsWorkflow])),
            "Give each agent its own name: Agent(..., name='...')",
        ),
        Case(
            'unknown activity config key',
            lambda: register(
                Agent(TestModel(), name='m_cfg', capabilities=[TemporalDurability(activity_config={'retry': 3})])  # type: ignore[typeddict-unknown-key]
            ),
            'the keys are',
        ),
        Case('sync tool configured inline', lambda: register(sync_tool_inline_by_metadata()), 'async def'),
        *run_time_cases(
            in_workflow,
            'TemporalDurability',
            in_process=False,
            capability=True,
            leave_out=NOT_IN_CAPABILITY_FORM['temporal'],
        ),
        Case('run_sync inside a workflow', lambda: in_workflow('run_sync'), 'await agent.run'),
        Case('override of the model inside a workflow', lambda: in_workflow('override and run'), 'models='),
        Case('realtime session inside a workflow', lambda: in_workflow('realtime session'), 'outside the workflow'),
        *capability_only_cases(
            TemporalDurability, TemporalAgent, CAPABILITY_AGENT, lambda: in_workflow('capability for one run')
        ),
        Case(
            'config for a toolset the agent lacks',
            lambda: register(
                Agent(
                    TestModel(),
                    name='m_lacks',
                    capabilities=[TemporalDurability(toolset_activity_config={'get_wether': {}})],
                )
            ),
            'its toolset ids are',
        ),
        Case(
            'capability agent on a worker that did not register it',
            on_a_worker_that_did_not_register_it,
            '`__pydantic_ai_agents__ = [agent]`',
        ),
        Case('a valid run (control)', lambda: in_workflow('control'), ''),
    ]

    async with Worker(
        client, task_queue=TASK_QUEUE, workflows=[CapabilityMisuseWorkflow, UnregisteredCapabilityWorkflow]
    ):
        return await run_cases('temporal', cases, lambda: scheduled_activities(client), original_type)


if __name__ == '__main__':
    asyncio.run(main(parse_form(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
    exit_now()
