"""PydanticAI 2.68's other `durable_exec.dbos` names: `DBOSModel` works, `DBOSOperationNamer` refuses early."""

from __future__ import annotations

from collections.abc import AsyncIterable

import pytest
from _support import step_names
from dbos import DBOS
from durable_core import DurableUsageError
from durable_dbos import DBOSModel, DBOSOperationNamer, StepConfig
from pydantic_ai import Agent, AgentStreamEvent, RunContext, UserError
from pydantic_ai.direct import model_request_stream
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, PartStartEvent, TextPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCalls, FunctionModel


class CountingModel(FunctionModel):
    """Answers `'answer'`, counts requests and records the responses it is asked to cancel."""

    def __init__(self) -> None:
        super().__init__(self._answer, stream_function=self._stream)
        self.requests = 0
        self.cancelled: list[ModelResponse] = []

    def _answer(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.requests += 1
        return ModelResponse(parts=[TextPart('answer')])

    async def _stream(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterable[str | DeltaToolCalls]:
        self.requests += 1
        yield 'answer'

    async def cancel_suspended_response(self, response: ModelResponse) -> None:
        self.cancelled.append(response)


counting = CountingModel()
dbos_model = DBOSModel(counting, step_name_prefix='dropin', step_config=StepConfig(retries=0))
events: list[AgentStreamEvent] = []


async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in stream:
        events.append(event)


streaming_model = DBOSModel(counting, step_name_prefix='dropin_stream', get_event_stream_handler=lambda: record)
agent = Agent(dbos_model, name='dropin_plain')
streaming_agent = Agent(streaming_model, name='dropin_streaming')


@DBOS.workflow()
async def plain_agent_workflow(prompt: str) -> str:
    return (await agent.run(prompt)).output


@DBOS.workflow()
async def streaming_agent_workflow(prompt: str) -> str:
    return (await streaming_agent.run(prompt, event_stream_handler=record)).output


@DBOS.workflow()
async def cancel_workflow(response_id: str) -> None:
    await dbos_model.cancel_suspended_response(ModelResponse(parts=[], provider_response_id=response_id))


@DBOS.workflow()
async def direct_stream_workflow(prompt: str) -> None:
    async with model_request_stream(streaming_model, [ModelRequest.user_text_prompt(prompt)]) as stream:
        async for _ in stream:
            pass


@pytest.fixture(autouse=True)
def _reset() -> None:
    counting.requests = 0
    counting.cancelled.clear()
    events.clear()


async def test_model_requests_of_a_plain_agent_in_a_workflow_are_steps(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(plain_agent_workflow, 'Hi')
    assert await handle.get_result() == 'answer'
    assert await step_names(handle.workflow_id) == ['dropin__model.request']
    assert counting.requests == 1


async def test_a_streamed_request_is_a_step_whose_handler_gets_the_live_events(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(streaming_agent_workflow, 'Hi')
    assert await handle.get_result() == 'answer'
    assert await step_names(handle.workflow_id) == ['dropin_stream__model.request_stream']
    assert any(isinstance(event, PartStartEvent) for event in events)


async def test_cancelling_a_suspended_response_in_a_workflow_is_a_step(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(cancel_workflow, 'resp_1')
    await handle.get_result()
    assert await step_names(handle.workflow_id) == ['dropin__model.cancel_suspended_response']
    assert [response.provider_response_id for response in counting.cancelled] == ['resp_1']


async def test_a_handler_cannot_stream_without_an_agent_run_which_names_agent_run(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(direct_stream_workflow, 'Hi')
    with pytest.raises(UserError, match=r'DBOSModel with an event stream handler .* use agent\.run\(\)'):
        await handle.get_result()
    assert counting.requests == 0


async def test_outside_a_workflow_the_model_is_called_directly() -> None:
    assert (await agent.run('Hi')).output == 'answer'
    await dbos_model.cancel_suspended_response(ModelResponse(parts=[], provider_response_id='resp_2'))
    assert counting.requests == 1
    assert [response.provider_response_id for response in counting.cancelled] == ['resp_2']


def test_an_unknown_step_config_key_is_refused_when_the_model_is_built() -> None:
    with pytest.raises(DurableUsageError, match='Unknown StepConfig keys'):
        DBOSModel(counting, step_name_prefix='bad', step_config={'attempts': 3})  # type: ignore[typeddict-unknown-key]


def test_the_operation_namer_is_refused_naming_durable_unit_names() -> None:
    with pytest.raises(UserError, match=r'durable_unit_names\(\)'):
        DBOSOperationNamer('support')
