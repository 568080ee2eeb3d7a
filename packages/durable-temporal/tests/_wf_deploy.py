"""The agent and workflow of test_deploy.py, in the version the worker process runs (`DEPLOY_VERSION`).

- `v1`: instructions 'Add the numbers.', the tool `add`.
- `v2`: changed instructions and one tool more (`multiply`): a compatible deploy.
- `v2-without-add`: `add` removed, though runs in flight already called it: an incompatible deploy.

The model asks for `add(40, 2)`, then answers with the tool's result. The model and the tools count each call at its
source in a `DurableCallCounter` (`DEPLOY_COUNTER`); with `DEPLOY_BLOCK` set, the second model request records that
it started and then hangs, so the test can kill that worker with the request in flight.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta

from durable_core.testing import DurableCallCounter
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent, Tool
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio import workflow

VERSION = os.environ.get('DEPLOY_VERSION', 'v1')
_NEVER = threading.Event()


def _record(name: str) -> None:
    counter_file = os.environ.get('DEPLOY_COUNTER')
    if counter_file:
        DurableCallCounter(counter_file).record(f'{VERSION}:{name}')


async def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    step = sum(isinstance(message, ModelResponse) for message in messages)
    _record(f'model_request:{step}')
    if step == 0:
        return ModelResponse(parts=[ToolCallPart('add', {'a': 40, 'b': 2}, tool_call_id='call-add')])
    if os.environ.get('DEPLOY_BLOCK'):
        _record('model_request:1:blocked')
        import anyio.to_thread

        await anyio.to_thread.run_sync(_NEVER.wait, abandon_on_cancel=True)
    returned = [part.content for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    tools = sorted(tool.name for tool in info.function_tools)
    return ModelResponse(parts=[TextPart(f'The answer is {returned[0]} ({VERSION}, tools {tools}).')])


async def add(a: int, b: int) -> int:
    _record('tool:add')
    return a + b


async def multiply(a: int, b: int) -> int:
    _record('tool:multiply')
    return a * b


_TOOLS = {'v1': [add], 'v2': [add, multiply], 'v2-without-add': [multiply]}
_INSTRUCTIONS = {'v1': 'Add the numbers.', 'v2': 'Add or multiply the numbers.', 'v2-without-add': 'Multiply.'}

deploy_agent = Agent(
    FunctionModel(scripted, model_name='scripted'),
    name='deploy',
    instructions=_INSTRUCTIONS[VERSION],
    tools=[Tool(function) for function in _TOOLS[VERSION]],
)
# A short attempt timeout, so the server hands the killed worker's model request to the new worker soon.
deploy_temporal = TemporalAgent(deploy_agent, activity_config={'start_to_close_timeout': timedelta(seconds=3)})


@workflow.defn
class DeployWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [deploy_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await deploy_temporal.run(prompt)).output
