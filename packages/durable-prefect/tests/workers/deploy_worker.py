"""Serves one version of an agent's flow as a deployment, for test_deploy.py; the test SIGKILLs it and starts another.

The version comes from the environment (`DEPLOY_VERSION`), and is the deployment's `version=`:

- `v1`: instructions 'Add the numbers.', the tool `add`.
- `v2`: changed instructions and one tool more (`multiply`): a compatible deploy.
- `v2-without-add`: `add` removed, though runs in flight already called it: an incompatible deploy.

The model asks for `add(40, 2)`, then answers with the tool's result, the instructions and the tools it was given.
The model and the tools count each call at its source in a `DurableCallCounter` (`DEPLOY_COUNTER`); with
`DEPLOY_BLOCK` set, the second model request records that it started and then hangs, so the test can kill the worker
with that request in flight. The agent is created at import, which the flow run's process does too.

Usage: deploy_worker.py  (serves `deploy-agent/<DEPLOY_NAME>` until killed; PREFECT_API_URL from the environment)
"""

from __future__ import annotations

import asyncio
import os

from durable_core.testing import DurableCallCounter
from durable_prefect import PrefectAgent
from prefect import flow, serve
from pydantic_ai import Agent, Tool
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

VERSION = os.environ.get('DEPLOY_VERSION', 'v1')


def _record(name: str) -> None:
    DurableCallCounter(os.environ['DEPLOY_COUNTER']).record(f'{VERSION}:{name}')


async def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    step = sum(isinstance(message, ModelResponse) for message in messages)
    _record(f'model_request:{step}')
    if step == 0:
        return ModelResponse(parts=[ToolCallPart('add', {'a': 40, 'b': 2}, tool_call_id='call-add')])
    if os.environ.get('DEPLOY_BLOCK'):
        _record('model_request:1:blocked')
        await asyncio.Event().wait()  # until the worker is killed
    returned = [part.content for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    tools = sorted(tool.name for tool in info.function_tools)
    return ModelResponse(parts=[TextPart(f'{returned} ({VERSION}, {info.instructions!r}, tools {tools})')])


async def add(a: int, b: int) -> int:
    _record('tool:add')
    return a + b


async def multiply(a: int, b: int) -> int:
    _record('tool:multiply')
    return a * b


_TOOLS = {'v1': [add], 'v2': [add, multiply], 'v2-without-add': [multiply]}
_INSTRUCTIONS = {'v1': 'Add the numbers.', 'v2': 'Add or multiply the numbers.', 'v2-without-add': 'Multiply.'}

deploy_agent = PrefectAgent(
    Agent(
        FunctionModel(scripted, model_name='scripted'),
        name='deploy',
        instructions=_INSTRUCTIONS[VERSION],
        tools=[Tool(function) for function in _TOOLS[VERSION]],
    )
)


@flow(name='deploy-agent', persist_result=True)
async def deploy_flow(prompt: str) -> str:
    return (await deploy_agent.run(prompt)).output


if __name__ == '__main__':
    serve(deploy_flow.to_deployment(name=os.environ['DEPLOY_NAME'], version=VERSION), limit=4)
