"""Flows with PrefectAgents, served as deployments by a subprocess that the tests SIGKILL and start again.

Every model request and tool call is counted at its source, in a file named by the flow's
`counter_path` parameter, which survives the kill. In `agent_in_flow`, the agent is created
inside the flow (so nothing needs serializing into the deployment); its second tool call blocks
the first time it runs, so the test can kill the worker mid-run. `module_level_agent` uses an
agent defined at module level: the worker imports this module, so it is created there too.

Usage: deployment_worker.py  (serves both deployments until killed; PREFECT_API_URL from the environment)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from durable_core.testing import DurableCallCounter, ScriptedModel, ToolCall
from durable_prefect import PrefectAgent
from prefect import flow, serve
from pydantic_ai import Agent, RunContext
from support import CountingModel

SCHEDULE = '0 0 1 1 *'  # once a year: the deployment has a schedule, the tests start their runs themselves


@flow(name='agent-in-flow', persist_result=True)
async def agent_in_flow(prompt: str, counter_path: str) -> str:
    counter = DurableCallCounter(counter_path)
    model = CountingModel(
        [[ToolCall('lookup', {'key': 'a'})], [ToolCall('lookup', {'key': 'b'})], 'a and b looked up'], counter
    )
    agent = Agent(model, name='deployed')

    @agent.tool
    async def lookup(ctx: RunContext[Any], key: str) -> str:
        counter.record(f'lookup:{key}')
        if key == 'b' and counter.count('lookup:b') == 1:
            await asyncio.Event().wait()  # the first process blocks here until it is killed
        return f'value of {key}'

    result = await PrefectAgent(agent).run(prompt)
    return result.output


module_agent = PrefectAgent(Agent(ScriptedModel(['hello from module level'] * 100), name='module_level'))


@flow(name='module-level-agent')
async def module_level_agent(prompt: str) -> str:
    return (await module_agent.run(prompt)).output


if __name__ == '__main__':
    serve(
        agent_in_flow.to_deployment(name='sigkill', cron=SCHEDULE),
        module_level_agent.to_deployment(name='module'),
        limit=4,
    )
