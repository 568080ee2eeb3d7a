"""The same N-step agent wrapped by durable-temporal and by PydanticAI's own Temporal integration (comparison only)."""

from __future__ import annotations

import warnings

from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage, UsageLimits
from temporalio import workflow

# Set, so that FunctionModel does not estimate it from the whole history at each request: quadratic in the steps.
USAGE = RequestUsage(input_tokens=100, output_tokens=10)

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


PAYLOAD_BYTES = 2000
"""What each tool call of the long-run agent returns: about 2 KB of text, different at each step."""


def page(step: int) -> str:
    """The tool's result at `step`: deterministic, so two runs see the same history."""
    line = f'step {step}: ' + ''.join(chr(97 + (step * 7 + index) % 26) for index in range(60)) + '\n'
    return (line * (PAYLOAD_BYTES // len(line) + 1))[:PAYLOAD_BYTES]


def long_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """Asks for `read_page` until the prompt's number of steps is reached, then answers."""
    done = sum(isinstance(message, ModelResponse) for message in messages)
    wanted = int(str(getattr(messages[0], 'parts', [])[-1].content).split()[0])
    if done < wanted - 1:
        return ModelResponse(
            parts=[ToolCallPart('read_page', {'step': done}, tool_call_id=f'call-{done}')], usage=USAGE
        )
    return ModelResponse(parts=[TextPart(f'Read {done} pages.')], usage=USAGE)


long_agent = Agent(FunctionModel(long_model, model_name='pages'), name='long_ours', instructions=INSTRUCTIONS)


@long_agent.tool_plain
async def read_page(step: int) -> str:
    """Read one page."""
    return page(step)


long_ours = TemporalAgent(long_agent)


@workflow.defn
class LongRunWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [long_ours]

    @workflow.run
    async def run(self, prompt: str) -> str:
        # PydanticAI stops a run at 50 requests by default; this one is long on purpose.
        return (await long_ours.run(prompt, usage_limits=UsageLimits(request_limit=None))).output
