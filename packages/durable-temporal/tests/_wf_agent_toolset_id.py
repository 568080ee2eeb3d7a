"""Agents and workflow of test_agent_toolset_id.py: activity configs keyed by PydanticAI's `'<agent>'`."""

from __future__ import annotations

from datetime import timedelta

from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent
from temporalio import workflow

SCRIPT = [ToolCall('double', {'n': 21}, tool_call_id='d1'), 'It is 42.']


async def double(n: int) -> int:
    return 2 * n


inline_agent = Agent(ScriptedModel(SCRIPT, position='history'), name='pai_id_inline', tools=[double])
inline_temporal = TemporalAgent(inline_agent, tool_activity_config={'<agent>': {'double': False}})

timeout_agent = Agent(ScriptedModel(SCRIPT, position='history'), name='pai_id_timeout', tools=[double])
timeout_temporal = TemporalAgent(
    timeout_agent, toolset_activity_config={'<agent>': {'start_to_close_timeout': timedelta(seconds=7)}}
)


@workflow.defn
class PaiToolsetIdWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [inline_temporal, timeout_temporal]

    @workflow.run
    async def run(self, prompt: str) -> list[str]:
        return [(await agent.run(prompt)).output for agent in (inline_temporal, timeout_temporal)]
