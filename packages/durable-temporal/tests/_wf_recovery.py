"""The agent and workflow of test_recovery.py, run by `_recovery_worker.py` in a worker subprocess.

The model and the tool count each call at its source, in a `DurableCallCounter` file that outlives a SIGKILLed
worker. While `SETTINGS.block` is set, the model's second request records that it started and then hangs,
so the test can kill the worker with that request in flight.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

from durable_core.testing import DurableCallCounter
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio import workflow


@dataclass
class Settings:
    counter: DurableCallCounter | None = None
    block: bool = False
    never: threading.Event = field(default_factory=threading.Event)


SETTINGS = Settings()


def _record(name: str) -> None:
    assert SETTINGS.counter is not None, 'the worker sets SETTINGS.counter'
    SETTINGS.counter.record(name)


async def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    step = sum(isinstance(message, ModelResponse) for message in messages)
    _record(f'model_request:{step}')
    if step == 0:
        return ModelResponse(parts=[ToolCallPart('add', {'a': 40, 'b': 2}, tool_call_id='call-add')])
    if SETTINGS.block:
        _record('model_request:1:blocked')
        await _wait_forever()
    returned = [
        part.content
        for message in messages
        for part in getattr(message, 'parts', [])
        if isinstance(part, ToolReturnPart)
    ]
    return ModelResponse(parts=[TextPart(f'The answer is {returned[0]}.')])


async def _wait_forever() -> None:
    import anyio.to_thread

    await anyio.to_thread.run_sync(SETTINGS.never.wait, abandon_on_cancel=True)


async def add(a: int, b: int) -> int:
    _record('tool:add')
    return a + b


# A short attempt timeout, so the server hands the killed worker's model request to the new worker soon.
SHORT_ATTEMPTS = {'start_to_close_timeout': timedelta(seconds=3)}

recovery_agent = Agent(FunctionModel(scripted, model_name='scripted'), name='recovery', tools=[add])
recovery_temporal = TemporalAgent(recovery_agent, activity_config=SHORT_ATTEMPTS)

# The capability form of the same agent: a plain `agent.run()` in the workflow.
recovery_capability_agent = Agent(
    FunctionModel(scripted, model_name='scripted'),
    name='recovery_capability',
    tools=[add],
    capabilities=[TemporalDurability(activity_config=SHORT_ATTEMPTS)],
)


@workflow.defn
class RecoveryWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [recovery_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await recovery_temporal.run(prompt)).output


@workflow.defn
class CapabilityRecoveryWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [recovery_capability_agent]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await recovery_capability_agent.run(prompt)).output
