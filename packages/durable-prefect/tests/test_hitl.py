"""Human in the loop: deferred tools end the run; a flow pauses for approval, resumes, and the agent finishes.

Each test runs once per form (the `form` fixture): `PrefectAgent(agent)`, and `Agent(..., capabilities=
[PrefectDurability()])` run in a flow.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from durable_core.testing import DurableCallCounter, ToolCall
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.context import get_run_context
from prefect.flow_runs import apause_flow_run, aresume_flow_run
from prefect.input import RunInput
from pydantic_ai import DeferredToolRequests, DeferredToolResults, RunContext, Tool
from support import CountingModel, DurableForm, Form, durable_form


class Approval(RunInput):
    approved: bool


def _agent(tmp_path: Path, form: Form) -> tuple[DurableForm, DurableCallCounter]:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = CountingModel([[ToolCall('delete_file', {'path': 'notes.txt'})], 'notes.txt is deleted'], counter)

    def delete_file(ctx: RunContext[Any], path: str) -> str:
        counter.record(f'delete_file:{path}')
        return f'deleted {path}'

    tools = [Tool(delete_file, requires_approval=True)]
    return durable_form(form, model, name='hitl', tools=tools, output_type=[str, DeferredToolRequests]), counter


async def test_deferred_tool_ends_the_run_with_requests(tmp_path: Path, form: Form) -> None:
    agent, counter = _agent(tmp_path, form)
    result = await agent.run('delete notes.txt')
    assert isinstance(result.output, DeferredToolRequests)
    assert [call.tool_name for call in result.output.approvals] == ['delete_file']
    assert counter.counts() == {'model': 1}


async def test_flow_pauses_for_approval_and_resumes_the_agent(tmp_path: Path, form: Form) -> None:
    durable, counter = _agent(tmp_path, form)
    prefect_agent = durable.agent  # its `run()` in a flow is durable in both forms
    flow_run_ids: list[Any] = []

    @flow
    async def approval_flow() -> str:
        flow_run_ids.append(get_run_context().flow_run.id)  # type: ignore[union-attr]
        first = await prefect_agent.run('delete notes.txt')
        assert isinstance(first.output, DeferredToolRequests)
        approval = await apause_flow_run(wait_for_input=Approval, timeout=300, poll_interval=1)
        results = DeferredToolResults(
            approvals={call.tool_call_id: approval.approved for call in first.output.approvals}
        )
        final = await prefect_agent.run(message_history=first.all_messages(), deferred_tool_results=results)
        assert isinstance(final.output, str)
        return final.output

    running = asyncio.create_task(approval_flow())
    async with get_client() as client:
        for _ in range(1200):  # a bound on waiting for the pause, not a timing assertion
            if flow_run_ids and (await client.read_flow_run(flow_run_ids[0])).state_name == 'Paused':
                break
            if running.done():
                pytest.fail(f'the flow ended before pausing: {running.result()!r}')
            await asyncio.sleep(0.1)
        else:
            pytest.fail('the flow did not pause')
    assert counter.counts() == {'model': 1}  # nothing was deleted while waiting for approval

    await aresume_flow_run(flow_run_ids[0], run_input={'approved': True})
    assert await running == 'notes.txt is deleted'
    assert counter.counts() == {'model': 2, 'delete_file:notes.txt': 1}
