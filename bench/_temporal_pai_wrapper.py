"""PydanticAI's deprecated `TemporalAgent` wrapper on the bench agent (see `_temporal_ours` for why one module each)."""

from __future__ import annotations

import warnings
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic_ai import Agent, Tool

    from bench import _workload

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # deprecated in favour of TemporalDurability; benchmarked as users still run it
        from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow, TemporalAgent

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    agent = TemporalAgent(
        Agent(_workload.model(), name='bench_pai_wrapper', tools=[Tool(_workload.lookup, name='lookup')])
    )


@workflow.defn(name='bench_pai_wrapper')
class PaiWrapperWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [agent]

    @workflow.run
    async def run(self, prompt: str) -> dict[str, Any]:
        result = await agent.run(prompt, usage_limits=_workload.UNLIMITED)
        return {'output': result.output, 'messages': len(result.all_messages())}
