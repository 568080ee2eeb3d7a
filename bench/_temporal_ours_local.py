"""Ours with the opt-in for short units: the tool runs as a local activity (`durable_temporal.LocalActivity`).

Model requests stay regular activities; the tool call skips the task queue (see `_temporal_ours`).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from durable_temporal import LocalActivity, PydanticAIWorkflow, TemporalAgent
    from pydantic_ai import Agent, Tool

    from bench import _workload

agent = TemporalAgent(
    Agent(_workload.model(), name='bench_ours_local', tools=[Tool(_workload.lookup, name='lookup')]),
    tool_activity_config={'agent': {'lookup': LocalActivity()}},
)


@workflow.defn(name='bench_ours_local')
class OursLocalWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    @workflow.run
    async def run(self, prompt: str) -> dict[str, Any]:
        result = await agent.run(prompt, usage_limits=_workload.UNLIMITED)
        return {'output': result.output, 'messages': len(result.all_messages())}
