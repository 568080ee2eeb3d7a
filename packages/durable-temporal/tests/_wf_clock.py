"""The agent and workflow of test_clock.py: two runs, a month of workflow time apart, report their timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta

from durable_core.testing import ScriptedModel, ToolCall
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.messages import ModelRequest
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
