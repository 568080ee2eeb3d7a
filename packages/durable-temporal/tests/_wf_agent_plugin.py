"""Agent and workflows of test_agent_plugin.py: an agent that no workflow lists, and one workflow that lists it."""

from __future__ import annotations

from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent
from temporalio import workflow

TOOL_CALLS: list[str] = []

plugged_agent = Agent(
    ScriptedModel([ToolCall('greet', {'who': 'ada'}, tool_call_id='g1'), 'Greeted ada.'], position='history'),
    name='plugged',
)


@plugged_agent.tool_plain
async def greet(who: str) -> str:
    TOOL_CALLS.append(f'greet:{who}')
    return f'hello {who}'


plugged_temporal = TemporalAgent(plugged_agent)


@workflow.defn
class UnlistedAgentWorkflow:
    """Runs the agent without listing it: only `AgentPlugin` registers its activities."""

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await plugged_temporal.run(prompt)).output


@workflow.defn
class ListedAgentWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [plugged_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await plugged_temporal.run(prompt)).output
