"""What a durable run journals, read back: its inputs exactly as passed, its result typed by the agent's output_type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from durable_core import DurableUsageError, UnserializableError
from durable_core._agent import DurableAgent, RunInputs
from durable_core.testing import strategies as ds
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic_ai import Agent, DeferredToolRequests, UsageLimits
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import BinaryContent, ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.output import NativeOutput, PromptedOutput, StructuredDict, TextOutput, ToolOutput
from test_codec_properties import PROPERTY_SETTINGS

# The strategies draw parts of capability part kinds no module defines, on purpose: PydanticAI warns on each.
pytestmark = pytest.mark.filterwarnings('ignore:Unknown capability part kind')


@dataclass
class Base:
    x: int


@dataclass
class Sub(Base):
    label: str


class Invoice(BaseModel):
    number: str
    due: date


class Refund(BaseModel):
    number: str
    due: date
    reason: str = 'n/a'


class InMemoryAgent(DurableAgent[Any, Any]):
    """The base with no engine: enough to journal inputs and results in memory."""

    def _in_durable_context(self) -> bool:
        return False

    async def _run_unit(self, call: Any, execute: Any) -> str:
        return await execute()

    def _durable_run_id(self) -> str:
        return 'run'

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any]:
        raise NotImplementedError


NO_DEPS = type(None)


def durable(output_type: Any = str, deps_type: Any = NO_DEPS) -> InMemoryAgent:
    return InMemoryAgent(Agent('test', name='journal', output_type=output_type, deps_type=deps_type))


run_arguments = ds.run_arguments(deps=st.builds(Base, st.integers()), message_history=ds.message_histories())


@given(run_arguments)
@PROPERTY_SETTINGS
def test_run_arguments_come_back_from_the_journal_exactly_as_passed(arguments: dict[str, Any]) -> None:
    agent = durable(deps_type=Base)
    deps = arguments.pop('deps', None)
    prompt = arguments.pop('user_prompt', None)
    inputs = agent._build_inputs({'user_prompt': prompt, 'deps': deps, **arguments})  # pyright: ignore[reportPrivateUsage]
    journaled = agent.decode_inputs(agent.encode_inputs(inputs))
    assert journaled == inputs
    assert journaled.user_prompt == prompt
    assert agent.decode_deps(journaled.deps) == deps
    for name, value in arguments.items():
        if name != 'model_settings':
            assert getattr(journaled, name) == value, name


def test_an_explicit_none_usage_limit_is_kept() -> None:
    agent = durable()
    inputs = agent._build_inputs({'user_prompt': 'hi', 'usage_limits': UsageLimits(request_limit=None)})  # pyright: ignore[reportPrivateUsage]
    journaled = agent.decode_inputs(agent.encode_inputs(inputs))
    assert journaled.usage_limits == UsageLimits(request_limit=None)
    assert journaled.usage_limits is not None
    assert journaled.usage_limits.request_limit is None


async def test_deps_of_a_subclass_of_deps_type_are_refused_naming_the_fix() -> None:
    agent = durable(deps_type=Base)
    with pytest.raises(DurableUsageError, match=r'deps_type=Sub'):
        await agent.run('hi', deps=Sub(1, 'custom'))


async def test_deps_that_do_not_survive_json_are_refused_naming_the_field() -> None:
    @dataclass
    class Loose:
        tags: Any

    agent = durable(deps_type=Loose)
    with pytest.raises(UnserializableError, match=r'fields tags'):
        await agent.run('hi', deps=Loose(tags=float('nan')))


def result_of(output: Any) -> AgentRunResult[Any]:
    messages = [ModelRequest(parts=[UserPromptPart('hi')]), ModelResponse(parts=[TextPart('done')])]
    result = AgentRunResult(output)
    result._state.message_history = messages  # pyright: ignore[reportPrivateUsage]
    return result


async def make_invoice(number: str) -> Invoice:
    return Invoice(number=number, due=date(2026, 1, 1))


def shout(text: str) -> str:
    return text.upper()


OUTPUT_CASES = [
    (str, 'plain'),
    (Invoice, Invoice(number='A1', due=date(2026, 12, 3))),
    ([Invoice, Refund], Invoice(number='A1', due=date(2026, 12, 3))),
    ([Invoice, Refund], Refund(number='A1', due=date(2026, 12, 3))),  # Invoice's fields would validate too
    ([Refund, Invoice], Invoice(number='A1', due=date(2026, 12, 3))),
    (ToolOutput(Invoice), Invoice(number='T', due=date(2026, 1, 2))),
    (NativeOutput([Refund, int]), 7),
    ([ToolOutput(Invoice), ToolOutput(int)], 7),
    (PromptedOutput(Refund), Refund(number='P', due=date(2026, 1, 2), reason='late')),
    (TextOutput(shout), 'LOUD'),
    (make_invoice, Invoice(number='F', due=date(2026, 1, 2))),
    ([Invoice, None], None),
    ([str, DeferredToolRequests], DeferredToolRequests()),
    (list[date], [date(2026, 1, 1)]),
    (StructuredDict({'type': 'object', 'properties': {'a': {'type': 'integer'}}}), {'a': 1}),
]


@pytest.mark.parametrize(('output_type', 'output'), OUTPUT_CASES)
def test_a_result_read_back_from_the_journal_has_the_output_type(output_type: Any, output: Any) -> None:
    agent = durable(output_type=output_type)
    result = result_of(output)
    decoded = agent.decode_result(agent.encode_result(result))
    assert type(decoded.output) is type(output)
    assert decoded.output == output
    assert decoded.all_messages() == result.all_messages()
    assert decoded.usage == result.usage


def test_binary_content_in_a_prompt_and_history_keeps_its_class() -> None:
    image = BinaryContent(b'\x89PNG', media_type='image/png')  # an image, but not a `BinaryImage`
    history: list[ModelMessage] = [ModelRequest(parts=[UserPromptPart(['look', image])])]
    agent = durable()
    inputs = agent._build_inputs({'user_prompt': ['again', image], 'message_history': history})  # pyright: ignore[reportPrivateUsage]
    journaled = agent.decode_inputs(agent.encode_inputs(inputs))
    assert journaled.user_prompt == ['again', image]
    assert type(journaled.user_prompt[1]) is BinaryContent
    assert journaled.message_history == history
    assert type(journaled.message_history[0].parts[0].content[1]) is BinaryContent
