"""The same N-step agent wrapped by durable-temporal and by PydanticAI's own Temporal integration (comparison only)."""

from __future__ import annotations

import warnings

from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio import workflow

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from pydantic_ai.durable_exec.temporal import TemporalAgent as TheirTemporalAgent

INSTRUCTIONS = 'You add numbers, one tool call at a time, and report the total.'


def steps_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Asks for `add` until the prompt's number of steps is reached, then answers."""
    done = sum(isinstance(message, ModelResponse) for message in messages)
    first = messages[0]
    wanted = int(str(getattr(first, 'parts', [])[-1].content).split()[0])
    if done < wanted - 1:
        return ModelResponse(parts=[ToolCallPart('add', {'a': done, 'b': 1}, tool_call_id=f'call-{done}')])
    return ModelResponse(parts=[TextPart(f'Finished after {done} tool calls.')])


def _agent(name: str) -> Agent[None, str]:
    agent = Agent(FunctionModel(steps_model, model_name='steps'), name=name, instructions=INSTRUCTIONS)

    @agent.tool_plain
    async def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    return agent


ours = TemporalAgent(_agent('size_ours'))
with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    theirs = TheirTemporalAgent(_agent('size_theirs'))


@workflow.defn
class OursSizeWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [ours]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await ours.run(prompt)).output


@workflow.defn
class TheirsSizeWorkflow:
    __pydantic_ai_agents__ = [theirs]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await theirs.run(prompt)).output
