"""Agents and workflows of test_agent.py, in a module pytest does not rewrite (the sandbox re-imports it per run)."""

from __future__ import annotations

from dataclasses import dataclass

from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio import workflow

TOOL_CALLS: list[str] = []


@dataclass
class Place:
    city: str
    units: str = 'metric'


geo_model = ScriptedModel(
    [ToolCall('get_weather', {'day': 'monday'}), 'It is sunny in Mexico City.'], position='history'
)
geo_agent = Agent(geo_model, name='geography', deps_type=Place, instructions="You're an expert in geography.")


@geo_agent.tool
async def get_weather(ctx: RunContext[Place], day: str) -> str:
    TOOL_CALLS.append(f'{ctx.deps.city}:{day}:{ctx.tool_call_id is not None}')
    return f'sunny in {ctx.deps.city} on {day} ({ctx.deps.units})'


geo_temporal = TemporalAgent(geo_agent)


def fast_answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[TextPart('fast answer')])


fast_model = FunctionModel(fast_answer, model_name='fast')
plain_temporal = TemporalAgent(Agent(ScriptedModel(['default answer'] * 10), name='plain'), models={'fast': fast_model})


@workflow.defn
class GeographyWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [geo_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        result = await geo_temporal.run(prompt, deps=Place('Mexico City'))
        return result.output


@workflow.defn
class ModelChoiceWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [plain_temporal]

    @workflow.run
    async def run(self, model: str | None) -> str:
        return (await plain_temporal.run('hello', model=model)).output


# The capability form keeps the agent's model string until a run, which builds the model in workflow code.
string_model_agent = Agent('openai:gpt-4.1-mini', name='string_model', capabilities=[TemporalDurability()])


@workflow.defn
class StringModelWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [string_model_agent]

    @workflow.run
    async def run(self) -> str:
        return (await string_model_agent.run('hello')).output


@workflow.defn
class IterWorkflow(PydanticAIWorkflow):
    """`iter()` in a workflow: the same activities as `run()`, with the graph's nodes visible to the workflow."""

    __pydantic_ai_agents__ = [geo_temporal]

    @workflow.run
    async def run(self, prompt: str) -> list[str]:
        nodes: list[str] = []
        async with geo_temporal.iter(prompt, deps=Place('Lima')) as agent_run:
            async for node in agent_run:
                nodes.append(type(node).__name__)
            assert agent_run.result is not None
            return [*nodes, agent_run.result.output]
