"""The agents and workflows of test_clock.py.

`ClockWorkflow`: two runs, a month of workflow time apart, report their timestamps. `HistoryClockWorkflow`: a run
given a message history that PydanticAI merges, cleans or resumes returns all its messages.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio import workflow

clock_model = ScriptedModel(
    [ToolCall('echo', {'text': 'hi'}), 'Echoed.', ToolCall('echo', {'text': 'again'}), 'Echoed again.'],
    position='history',
)
clock_agent = Agent(clock_model, name='clock')


@clock_agent.tool_plain
async def echo(text: str) -> str:
    return text


clock_temporal = TemporalAgent(clock_agent)


class RequestTimes(BaseModel):
    """The timestamps of each request of a run's messages: its own, and its parts'."""

    request: datetime
    parts: list[datetime]


class ClockReport(BaseModel):
    """Workflow time around each run, and the requests of all messages after the second run."""

    first_start: datetime
    first_end: datetime
    first_count: int
    second_start: datetime
    second_end: datetime
    requests: list[RequestTimes]


@workflow.defn
class ClockWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [clock_temporal]

    @workflow.run
    async def run(self) -> ClockReport:
        await workflow.sleep(timedelta(days=30))  # workflow time now differs from the system clock by a month
        first_start = workflow.now()
        first = await clock_temporal.run('Echo hi')
        first_end = workflow.now()
        await workflow.sleep(timedelta(days=30))
        second_start = workflow.now()
        second = await clock_temporal.run('Again', message_history=first.all_messages())
        second_end = workflow.now()
        requests = [
            RequestTimes(request=message.timestamp, parts=[part.timestamp for part in message.parts])
            for message in second.all_messages()
            if isinstance(message, ModelRequest) and message.timestamp is not None
        ]
        return ClockReport(
            first_start=first_start,
            first_end=first_end,
            first_count=sum(isinstance(message, ModelRequest) for message in first.all_messages()),
            second_start=second_start,
            second_end=second_end,
            requests=requests,
        )


# ---- test_history_keeps_its_timestamps: a run given a message history, on the history's own timestamps ----------

HISTORY_TIMES = [datetime(2021, 3, day, 12, tzinfo=UTC) for day in range(1, 7)]
"""The timestamps of the given histories: years before any workflow time, each one distinct."""

HISTORY_CASES = ('consecutive', 'retry_dropped', 'plain', 'resumed')


def history_of(case: str) -> list[ModelMessage]:
    """The message history of each case, as new objects (a run must not change the caller's history)."""
    t1, t2, t3, t4, t5, t6 = HISTORY_TIMES
    if case == 'consecutive':  # two requests in a row: PydanticAI merges them into one new request
        return [
            ModelRequest([UserPromptPart('first', timestamp=t1)], timestamp=t1),
            ModelRequest([UserPromptPart('second', timestamp=t2)], timestamp=t2),
            ModelResponse([TextPart('noted')], timestamp=t3),
        ]
    if case == 'retry_dropped':  # a retry prompt answering no tool call: PydanticAI rebuilds the request without it
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # RetryPromptPart is deprecated, but histories still hold it
            retry = RetryPromptPart('bad arguments', tool_name='gone', tool_call_id='orphan', timestamp=t2)
        return [
            ModelRequest([UserPromptPart('hi', timestamp=t1), retry], timestamp=t1),
            ModelResponse([TextPart('hello')], timestamp=t3),
        ]
    plain: list[ModelMessage] = [
        ModelRequest(
            [SystemPromptPart('be brief', timestamp=t1), UserPromptPart('echo x', timestamp=t1)], timestamp=t1
        ),
        ModelResponse([ToolCallPart('echo', {'text': 'x'}, tool_call_id='history-call')], timestamp=t2),
        ModelRequest([ToolReturnPart('echo', 'x', tool_call_id='history-call', timestamp=t3)], timestamp=t3),
        ModelResponse([TextPart('x')], timestamp=t4),
    ]
    if case == 'plain':
        return plain
    assert case == 'resumed'  # the history ends with a request, which a run without a prompt sends again
    return [*plain, ModelRequest([UserPromptPart('echo y', timestamp=t5)], timestamp=t6)]


def history_prompt(case: str) -> str | None:
    """The prompt of each case's run: none when it resumes the history's last request."""
    return None if case == 'resumed' else 'Echo z'


def _echo_then_answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    last = messages[-1]
    if isinstance(last, ModelRequest) and any(isinstance(part, ToolReturnPart) for part in last.parts):
        return ModelResponse([TextPart('done')])
    return ModelResponse([ToolCallPart('echo', {'text': 'z'})])


history_agent = Agent(FunctionModel(_echo_then_answer), name='history_clock')


@history_agent.tool_plain(name='echo')
async def history_echo(text: str) -> str:
    return text


history_temporal = TemporalAgent(history_agent)


class HistoryReport(BaseModel):
    """Workflow time around the run, its messages (as PydanticAI's JSON), and whether the given history changed."""

    start: datetime
    end: datetime
    messages: str
    run_id: str
    history_unchanged: bool


@workflow.defn
class HistoryClockWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [history_temporal]

    @workflow.run
    async def run(self, case: str) -> HistoryReport:
        await workflow.sleep(timedelta(days=30))  # workflow time now differs from the system clock by a month
        history = history_of(case)
        start = workflow.now()
        result = await history_temporal.run(history_prompt(case), message_history=history)
        end = workflow.now()
        return HistoryReport(
            start=start,
            end=end,
            messages=ModelMessagesTypeAdapter.dump_json(result.all_messages()).decode(),
            run_id=result.run_id,
            history_unchanged=history == history_of(case),
        )
