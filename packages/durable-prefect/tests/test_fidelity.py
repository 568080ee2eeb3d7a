"""What comes back from Prefect's journal is exactly what went in (issue 12), on the real local server.

A user's `@flow(retries=1)` that fails once after the agent's run finished is retried: Prefect reuses the
agent's completed subflow run and hands back its stored result, so the run's result is rebuilt from JSON.
It must equal the live result of the first attempt: output type and value, messages, usage.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from durable_core.testing import DurableCallCounter, ToolCall
from durable_prefect import PrefectAgent
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import (
    BinaryContent,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from support import CountingModel, retried_once

# The smallest valid PNG: 1x1 pixel.
PNG = bytes.fromhex(
    '89504e470d0a1a0a0000000d4948445200000001000000010806000000'
    '1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082'
)


class City(BaseModel):
    name: str
    country: str
    population: int


def _city_agent(tmp_path: Path, name: str) -> tuple[Agent[None, City], DurableCallCounter]:
    """Looks a city up with a tool, then answers through the output tool."""
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = CountingModel(
        [
            [ToolCall('lookup', {'city': 'Paris'}, tool_call_id='call-lookup')],
            [
                ToolCall(
                    'final_result',
                    {'name': 'Paris', 'country': 'France', 'population': 2_100_000},
                    tool_call_id='call-out',
                )
            ],
        ],
        counter,
    )
    agent = Agent(model, name=name, output_type=City)

    @agent.tool
    def lookup(ctx: RunContext[Any], city: str) -> dict[str, Any]:
        counter.record(f'lookup:{city}')
        return {'city': city, 'country': 'France'}

    return agent, counter


def assert_same_result(recovered: AgentRunResult[Any], original: AgentRunResult[Any]) -> None:
    """Everything a caller reads from a result, compared field by field (`==` on a result compares its output only)."""
    assert type(recovered.output) is type(original.output)
    assert recovered.output == original.output
    assert recovered.all_messages() == original.all_messages()
    assert recovered.new_messages() == original.new_messages()
    assert recovered.usage == original.usage
    assert recovered.run_id == original.run_id
    assert recovered.conversation_id == original.conversation_id
    assert recovered.metadata == original.metadata


async def test_retried_flow_reusing_the_finished_agent_run_gets_the_output_type(tmp_path: Path) -> None:
    agent, counter = _city_agent(tmp_path, 'typed_retry')
    prefect_agent = PrefectAgent(agent)

    async def body() -> AgentRunResult[Any]:
        return await prefect_agent.run('Which city?')

    attempts, _ = await retried_once(body)
    assert attempts[-1].output.name == 'Paris'  # what user code does with a typed output
    # The agent's run was not executed again on the retry: its finished subflow run was reused.
    assert counter.counts() == {'model': 2, 'lookup:Paris': 1}
    first, retried = attempts
    assert type(first.output) is City
    assert_same_result(retried, first)


def _history() -> list[ModelMessage]:
    """A history with a `BinaryContent` image (not a `BinaryImage`) and a `date` in a tool's return."""
    return [
        ModelRequest(parts=[UserPromptPart(['What is on this picture?', BinaryContent(PNG, media_type='image/png')])]),
        ModelResponse(parts=[ToolCallPart('calendar', {}, tool_call_id='call-calendar')]),
        ModelRequest(parts=[ToolReturnPart('calendar', {'today': date(2024, 5, 17)}, tool_call_id='call-calendar')]),
        ModelResponse(parts=[TextPart('A red pixel, on 17 May 2024.')]),
    ]


def _assert_history_kept(result: AgentRunResult[Any], history: list[ModelMessage]) -> None:
    kept = result.all_messages()[: len(history)]
    assert kept == history
    image = kept[0].parts[0].content[1]  # type: ignore[union-attr, index]
    assert type(image) is BinaryContent
    assert image.is_image  # pyright: ignore[reportUnknownMemberType]
    assert kept[2].parts[0].content == {'today': date(2024, 5, 17)}  # type: ignore[union-attr]


async def test_message_history_comes_back_unchanged_on_first_execution_and_retry(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        counter.record('model')
        return ModelResponse(parts=[TextPart('Still a red pixel.')])

    agent = Agent(FunctionModel(answer), name='history_kept')
    prefect_agent = PrefectAgent(agent)
    history = _history()

    first = await prefect_agent.run('And now?', message_history=history)
    assert first.output == 'Still a red pixel.'
    _assert_history_kept(first, history)

    async def body() -> AgentRunResult[Any]:
        return await prefect_agent.run('And now?', message_history=history)

    attempts, _ = await retried_once(body)
    assert counter.counts() == {'model': 2}  # one request for the first run, one for the flow's, none on retry
    for attempt in attempts:
        _assert_history_kept(attempt, history)
    assert_same_result(attempts[1], attempts[0])
