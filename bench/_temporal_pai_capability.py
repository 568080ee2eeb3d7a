"""PydanticAI's `TemporalDurability` capability on the bench agent (see `_temporal_ours` for why one module each)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic_ai import Agent, Tool
    from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow, TemporalDurability

    from bench import _workload

# The capability's documented use: a plain Agent with TemporalDurability, run inside your own workflow.
agent = Agent(
    _workload.model(),
    name='bench_pai_capability',
    tools=[Tool(_workload.lookup, name='lookup')],
    capabilities=[TemporalDurability()],
)


@workflow.defn(name='bench_pai_capability')
class PaiCapabilityWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    @workflow.run
    async def run(self, prompt: str) -> dict[str, Any]:
        result = await agent.run(prompt, usage_limits=_workload.UNLIMITED)
        return {'output': result.output, 'messages': len(result.all_messages())}
