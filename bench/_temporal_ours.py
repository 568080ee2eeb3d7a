"""Our workflow of the bench agent: `durable_temporal.TemporalAgent` in a `PydanticAIWorkflow`.

Each variant's workflow lives in its own module, as users write them: the sandbox executes a workflow's module
again for every run, so one module holding every variant would charge each run for building the others' agents.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from durable_temporal import PydanticAIWorkflow, TemporalAgent
    from pydantic_ai import Agent, Tool

    from bench import _workload

agent = TemporalAgent(Agent(_workload.model(), name='bench_ours', tools=[Tool(_workload.lookup, name='lookup')]))


@workflow.defn(name='bench_ours')
class OursWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    @workflow.run
    async def run(self, prompt: str) -> dict[str, Any]:
        result = await agent.run(prompt, usage_limits=_workload.UNLIMITED)
        return {'output': result.output, 'messages': len(result.all_messages())}
