"""The workflow of test_replay_compat.py: an agent whose dynamic toolset has instructions."""

from __future__ import annotations

from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent, RunContext
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset
from temporalio import workflow

instructed_agent = Agent(TestModel(), name='dynamic_instructed')


@instructed_agent.toolset(id='instructed')
async def instructed_tools(ctx: RunContext[None]) -> FunctionToolset[None]:
    async def lookup(key: str) -> str:
        return f'{key} found'

    async def per_run(ctx: RunContext[None]) -> str:
        return f'Run step {ctx.run_step}.'

    return FunctionToolset([lookup], instructions=['Look things up with `lookup`.', per_run])


instructed_temporal = TemporalAgent(instructed_agent)


@workflow.defn
class InstructedDynamicWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [instructed_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await instructed_temporal.run(prompt)).output
