"""Our capability form on the bench agent: a plain Agent with `durable_temporal.TemporalDurability`, run inside a
workflow of ours, as 2.68's capability is (`_temporal_pai_capability`; see `_temporal_ours` for why one module each).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from durable_temporal import PydanticAIWorkflow, TemporalDurability
    from pydantic_ai import Agent, Tool

    from bench import _workload

# The same options as `_temporal_ours`, in the capability form: it runs on a TemporalAgent built around the agent.
agent = Agent(
    _workload.model(),
    name='bench_ours_capability',
    tools=[Tool(_workload.lookup, name='lookup')],
    capabilities=[TemporalDurability()],
)


@workflow.defn(name='bench_ours_capability')
class OursCapabilityWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]  # the agent itself: the worker registers its activities

    @workflow.run
    async def run(self, prompt: str) -> dict[str, Any]:
        result = await agent.run(prompt, usage_limits=_workload.UNLIMITED)
        return {'output': result.output, 'messages': len(result.all_messages())}
