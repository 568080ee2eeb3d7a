"""Agent and workflow of test_dropin_names.py: a tool reports the type of the run context its activity gets."""

from __future__ import annotations

from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalRunContext
from pydantic_ai import Agent, RunContext
from temporalio import workflow

SCRIPT = [ToolCall('context_type', {}, tool_call_id='c1'), 'Done.']


async def context_type(ctx: RunContext[str]) -> str:
    return f'{isinstance(ctx, TemporalRunContext)} {ctx.deps}'


agent = Agent(ScriptedModel(SCRIPT, position='history'), name='dropin_ctx', deps_type=str, tools=[context_type])
temporal_agent = TemporalAgent(agent, run_context_type=TemporalRunContext)


@workflow.defn
class RunContextTypeWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [temporal_agent]

    @workflow.run
    async def run(self, deps: str) -> str:
        result = await temporal_agent.run('Which context?', deps=deps)
        return str(result.all_messages()[2].parts[0].content)  # pyright: ignore[reportAttributeAccessIssue]
