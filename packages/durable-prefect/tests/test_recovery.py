"""Recovery on the real local server: completed model requests and tool calls load from storage, never run again.

Every model request and tool call is counted at its source in a fsync'ed `DurableCallCounter`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from durable_core.testing import DurableCallCounter, ToolCall
from durable_prefect import PrefectAgent
from prefect import flow
from prefect.context import get_run_context
from pydantic_ai import Agent, RunContext
from support import CountingModel, read_subflow_runs, read_task_runs


def _flaky_agent(tmp_path: Path, name: str) -> tuple[Agent[None, str], DurableCallCounter]:
    """Step 1 calls `lookup('a')`, step 2 calls `lookup('b')`, which fails the first time; step 3 answers."""
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = CountingModel([[ToolCall('lookup', {'key': 'a'})], [ToolCall('lookup', {'key': 'b'})], 'done'], counter)
    agent = Agent(model, name=name)

    @agent.tool
    def lookup(ctx: RunContext[Any], key: str) -> str:
        counter.record(f'lookup:{key}')
        if key == 'b' and counter.count('lookup:b') == 1:
            raise RuntimeError('the first attempt of lookup(b) fails')
        return f'value of {key}'

    return agent, counter


async def test_flow_retry_reuses_completed_units(tmp_path: Path) -> None:
    agent, counter = _flaky_agent(tmp_path, 'flaky')
    prefect_agent = PrefectAgent(agent)

    @flow(retries=1)
    async def outer() -> dict[str, Any]:
        result = await prefect_agent.run('go')
        return {'output': result.output, 'flow_run_id': str(get_run_context().flow_run.id)}  # type: ignore[union-attr]

    outcome = await outer()
    assert outcome['output'] == 'done'
    # Each completed unit ran once; lookup(b) ran twice because its first attempt failed.
    assert counter.counts() == {'model': 3, 'lookup:a': 1, 'lookup:b': 2}

    # Prefect made a new subflow run for the agent on the retry; its completed units were loaded from storage.
    subflows = await read_subflow_runs(outcome['flow_run_id'])
    assert sorted(run.state_name for run in subflows) == ['Completed', 'Failed']
    retried = next(run for run in subflows if run.state_name == 'Completed')
    states = {(t.name.rsplit('-', 1)[0], t.state_name) for t in await read_task_runs(retried.id, count=5)}
    assert ('flaky.model_request', 'Cached') in states
    assert ('flaky.tool_call.agent.lookup', 'Cached') in states
