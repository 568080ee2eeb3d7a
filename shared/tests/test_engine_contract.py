"""The guards and services the base owns for every engine: unique agent names, live results for in-process callers."""

from __future__ import annotations

import gc
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

import pytest
from durable_core import DurableNameError, DurableUsageError, NotInDurableUnitError, encode
from durable_core.engine import DurableAgent, ModelRequestInputs, RunInputs, UnitCall, removed_tools_called
from pydantic import BaseModel
from pydantic_ai import Agent, AgentRunResultEvent, DeferredToolRequests, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import ModelMessage, ModelResponse, PartStartEvent, ToolCallPart
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import ExternalToolset, FunctionToolset

_IN_BODY: ContextVar[bool] = ContextVar('in_body', default=False)


class Answer(BaseModel):
    text: str


class InProcessEngine(DurableAgent[Any, Any]):
    """An engine whose durable run's body runs in the caller's process, and whose journal is a dict."""

    engine_name = 'InProcess'
    wrapper_name = 'InProcessAgent'
    _duplicate_name_reason = 'its runs would be read back as the other agent'
    journal: dict[str, str]
    body_runs_here = True

    def _in_durable_context(self) -> bool:
        return _IN_BODY.get()

    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        return await execute()

    def _durable_run_id(self) -> str:
        return 'run-1'

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any] | str:
        key = self.encode_inputs(inputs)
        if not self.body_runs_here:  # a recovery elsewhere, or a second call: the journaled result is read back
            return self.journal[key]
        token = _IN_BODY.set(True)
        try:
            result = await self.run_inputs(self.decode_inputs(key))
        finally:
            _IN_BODY.reset(token)
        self.journal[key] = self.encode_result(result)
        return self.journal[key]


def _answer_agent(name: str, seen: list[Answer]) -> Agent[None, Answer]:
    agent = Agent('test', name=name, output_type=Answer)

    @agent.output_validator
    def keep(ctx: RunContext[None], output: Answer) -> Answer:  # pyright: ignore[reportUnusedFunction]
        seen.append(output)
        return output

    return agent


def test_a_second_live_agent_with_one_name_is_refused_with_the_engines_reason() -> None:
    first = InProcessEngine(Agent('test', name='unique_name'))
    with pytest.raises(DurableNameError, match=r"already named 'unique_name': its runs would be read.*unique name"):
        InProcessEngine(Agent('test', name='unique_name'))
    assert InProcessEngine.named('unique_name') is first


def test_an_engine_may_allow_a_name_again_for_an_agent_with_the_same_units() -> None:
    class Recreatable(InProcessEngine):
        engine_name = 'Recreatable'
        _same_name_for_the_same_units = True

    def lookup() -> str:
        return 'found'

    first = Recreatable(Agent('test', name='recreated'))
    second = Recreatable(Agent('test', name='recreated'))  # the same units: created again, say in each flow run
    assert Recreatable.named('recreated') is second
    with pytest.raises(DurableNameError, match=r"already named 'recreated' \(one with the same tools may be"):
        Recreatable(Agent('test', name='recreated', tools=[lookup]))
    assert first is not second


def test_a_name_is_free_again_once_its_agent_is_gone() -> None:
    first = InProcessEngine(Agent('test', name='freed_name'))
    del first
    gc.collect()
    assert InProcessEngine.named('freed_name') is None
    InProcessEngine(Agent('test', name='freed_name'))


def test_an_engine_without_a_reason_leaves_names_to_its_own_check() -> None:
    class PerWorker(InProcessEngine):
        engine_name = 'PerWorker'
        _duplicate_name_reason = None

    agents = [PerWorker(Agent('test', name='shared')) for _ in range(2)]  # no refusal: the engine checks names itself
    assert PerWorker.named('shared') is None  # and core claimed nothing for them
    assert [agent.name for agent in agents] == ['shared', 'shared']


async def test_an_in_process_caller_gets_the_runs_live_result() -> None:
    seen: list[Answer] = []
    engine = InProcessEngine(_answer_agent('live_result', seen))
    engine.journal = {}
    result = await engine.run('hi')
    assert result.output is seen[-1]  # not a copy rebuilt from the journal


async def test_a_caller_whose_run_body_ran_elsewhere_gets_the_journaled_result_typed() -> None:
    seen: list[Answer] = []
    engine = InProcessEngine(_answer_agent('journaled_result', seen))
    engine.journal = {}
    live = await engine.run('hi')
    engine.body_runs_here = False
    journaled = await engine.run('hi')
    assert len(seen) == 1  # the second call ran nothing
    assert journaled.output == live.output
    assert journaled.output is not live.output
    assert isinstance(journaled.output, Answer)
    assert journaled.all_messages() == live.all_messages()


async def test_a_run_started_inside_a_runs_body_hands_its_result_to_its_own_caller() -> None:
    outer_seen: list[Answer] = []
    inner_seen: list[Answer] = []
    inner = InProcessEngine(_answer_agent('inner', inner_seen))
    inner.journal = {}
    outer_agent = _answer_agent('outer', outer_seen)
    inner_results: list[AgentRunResult[Any]] = []

    @outer_agent.tool_plain
    async def ask_inner() -> str:  # pyright: ignore[reportUnusedFunction]
        token = _IN_BODY.set(False)  # the tool runs in a unit, outside the outer run's durable code
        try:
            inner_results.append(await inner.run('inner question'))
        finally:
            _IN_BODY.reset(token)
        return inner_results[-1].output.text

    outer = InProcessEngine(outer_agent)
    outer.journal = {}
    result = await outer.run('outer question')
    assert result.output is outer_seen[-1]
    assert inner_results[-1].output is inner_seen[-1]


async def test_run_stream_events_outside_any_workflow_streams_the_plain_agents_events() -> None:
    seen: list[Answer] = []
    engine = InProcessEngine(_answer_agent('streamed_events', seen))
    engine.journal = {}
    async with engine.run_stream_events('hi') as stream:
        events = [event async for event in stream]
    assert isinstance(events[-1], AgentRunResultEvent)
    assert events[-1].result.output is seen[-1]
    assert engine.journal == {}  # not durable: nothing journaled


async def test_a_realtime_session_inside_a_durable_run_is_refused_naming_the_fix() -> None:
    engine = InProcessEngine(Agent('test', name='realtime_refused'))
    token = _IN_BODY.set(True)  # the engine's durable code
    try:
        with pytest.raises(NotInDurableUnitError, match=r'realtime session is not.*outside the workflow'):
            engine.realtime('openai:gpt-realtime')
    finally:
        _IN_BODY.reset(token)
    assert engine.realtime('openai:gpt-realtime') is not None  # outside: PydanticAI's own accessor


def _asks_the_user(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    assert [tool.name for tool in info.function_tools] == ['ask_user']
    return ModelResponse(parts=[ToolCallPart('ask_user', {'question': 'Which city?'})])


async def test_an_external_toolset_passed_at_run_time_is_journaled_and_ends_the_run_deferred() -> None:
    agent = Agent(FunctionModel(_asks_the_user), name='external_at_run_time', output_type=[str, DeferredToolRequests])
    engine = InProcessEngine(agent)
    engine.journal = {}
    ask_user = ToolDefinition(name='ask_user', parameters_json_schema={'type': 'object', 'properties': {}})
    result = await engine.run('hi', toolsets=[ExternalToolset([ask_user])])
    assert isinstance(result.output, DeferredToolRequests)
    assert [call.tool_name for call in result.output.calls] == ['ask_user']
    [inputs] = [engine.decode_inputs(key) for key in engine.journal]
    assert inputs.external_tools == [ask_user]  # the body ran from the journal, which holds the tool


async def test_a_toolset_that_runs_tools_passed_at_run_time_is_still_refused() -> None:
    engine = InProcessEngine(Agent('test', name='function_at_run_time'))
    engine.journal = {}
    with pytest.raises(DurableUsageError, match=r'Agent\(\.\.\., toolsets=\[\.\.\.\]\).*ExternalToolset'):
        await engine.run('hi', toolsets=[FunctionToolset(id='late')])


async def test_a_handler_passed_to_run_gets_its_runs_events_and_not_those_of_runs_inside_it() -> None:
    inner = InProcessEngine(Agent(TestModel(custom_output_text='from the inner run'), name='handler_inner'))
    inner.journal = {}
    outer_agent = Agent(TestModel(custom_output_text='from the outer run'), name='handler_outer')

    @outer_agent.tool_plain
    async def ask_inner() -> str:  # pyright: ignore[reportUnusedFunction]
        async with inner.iter('inner') as run:  # `iter()`, like `run()`, takes no handler from the outer run
            async for _ in run:
                pass
        assert run.result is not None
        return run.result.output

    outer = InProcessEngine(outer_agent)
    outer.journal = {}
    parts: list[str] = []
    kinds: list[str] = []

    async def handler(ctx: RunContext[Any], events: Any) -> None:
        async for event in events:
            kinds.append(type(event).__name__)
            if isinstance(event, PartStartEvent):
                parts.append(type(event.part).__name__)

    assert (await outer.run('go', event_stream_handler=handler)).output == 'from the outer run'
    # The outer run's two responses; the inner run, inside the outer one's tool, has no handler.
    assert parts == ['ToolCallPart', 'TextPart']
    assert {'FunctionToolCallEvent', 'FunctionToolResultEvent'} <= set(kinds)


async def test_a_handler_passed_to_run_is_refused_where_units_run_in_another_process() -> None:
    class Remote(InProcessEngine):
        engine_name = 'Remote'
        _units_run_in_process = False

    remote = Remote(Agent('test', name='remote_handler'))
    remote.journal = {}

    async def handler(ctx: RunContext[Any], events: Any) -> None:
        pass

    fix = r'InProcessAgent\(agent, event_stream_handler=handler\)'
    with pytest.raises(DurableUsageError, match=r'cannot reach the model requests.*' + fix):
        await remote.run('go', event_stream_handler=handler)
    assert remote.journal == {}


def test_a_journaled_response_calling_a_tool_this_version_removed_is_told_apart_from_a_made_up_one() -> None:
    tools = [ToolDefinition(name='add'), ToolDefinition(name='mul')]
    inputs = ModelRequestInputs([], None, ModelRequestParameters(function_tools=tools), None)
    assert inputs.offered_tools() == ['add', 'mul']
    calls = [ToolCallPart('add', {}), ToolCallPart('made_up', {}), ToolCallPart('mul', {})]
    response = encode(ModelResponse(parts=calls), ModelResponse)
    assert removed_tools_called(response, ['add', 'mul'], ['mul']) == ['add']
    # A tool the request did not offer is the model's invention, answered as unknown again on a rerun.
    assert removed_tools_called(response, ['mul'], []) == ['mul']
    assert removed_tools_called(response, ['add', 'mul'], ['add', 'mul', 'div']) == []
