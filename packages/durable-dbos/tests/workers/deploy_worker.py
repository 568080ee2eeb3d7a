"""A DBOS app in the version `DEPLOY_VERSION` names, run as a subprocess that test_deploy.py SIGKILLs and redeploys.

- `v1`: instructions 'Add the numbers.', the tool `add`.
- `v2`: changed instructions, one tool more (`multiply`), another package version: a compatible deploy.
- `v2-without-add`: `add` removed, though runs in flight already called it: an incompatible deploy.

Every version pins DBOS's `application_version` (`DEPLOY_APP_VERSION`, default `release-1`), as a deploy that
recovers the runs of the previous one must. The model asks for `add(40, 2)`, then answers with the tool's result and
what its request carried (this version, the tools, the instructions). The model and the tools count each call at its
source in a `DurableCallCounter`; in `start` mode the second model request records that it started, then hangs until
the worker is killed. (`v2-without-add` asks for `multiply(6, 7)` instead, in a run it starts.)

Usage: deploy_worker.py MODE DB_URL COUNTER_FILE WORKFLOW_ID

- `start`: start the run `WORKFLOW_ID` (the test kills the worker with its second model request in flight).
- `recover`: launch DBOS, which recovers the pending runs of this application version, and print the outcome of
  `WORKFLOW_ID` as JSON once it has one.
- `new-run`: launch DBOS, run a new run to completion and print its output as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import uuid

from dbos import DBOS, DBOSConfig, SetWorkflowID
from durable_core.testing import DurableCallCounter
from durable_dbos import DBOSAgent, StepConfig
from pydantic_ai import Agent, Tool
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

VERSION = os.environ['DEPLOY_VERSION']
PACKAGE_VERSION = {'v1': '1.0.0', 'v2': '2.0.0', 'v2-without-add': '2.0.0'}[VERSION]
"""The version of the app's package each deploy ships: what a real deploy bumps."""

mode, db_url, counter_file, workflow_id = sys.argv[1:5]
counter = DurableCallCounter(counter_file)
_NEVER = threading.Event()


async def scripted(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    step = sum(isinstance(message, ModelResponse) for message in messages)
    counter.record(f'{VERSION}:model_request:{step}')
    if step == 0:
        if VERSION == 'v2-without-add':  # (in a run it starts)
            return ModelResponse(parts=[ToolCallPart('multiply', {'a': 6, 'b': 7}, tool_call_id='call-multiply')])
        return ModelResponse(parts=[ToolCallPart('add', {'a': 40, 'b': 2}, tool_call_id='call-add')])
    if mode == 'start':
        counter.record(f'{VERSION}:model_request:{step}:blocked')
        await asyncio.to_thread(_NEVER.wait)
    returned = [part.content for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    tools = sorted(tool.name for tool in info.function_tools)
    answer = f'{returned[0]} ({VERSION} {PACKAGE_VERSION}, tools {tools}, instructions {info.instructions!r})'
    return ModelResponse(parts=[TextPart(answer)])


async def add(a: int, b: int) -> int:
    counter.record(f'{VERSION}:tool:add')
    return a + b


async def multiply(a: int, b: int) -> int:
    counter.record(f'{VERSION}:tool:multiply')
    return a * b


_TOOLS = {'v1': [add], 'v2': [add, multiply], 'v2-without-add': [multiply]}
_INSTRUCTIONS = {'v1': 'Add the numbers.', 'v2': 'Add or multiply the numbers.', 'v2-without-add': 'Multiply.'}

agent = Agent(
    FunctionModel(scripted, model_name='scripted'),
    name='deploy',
    instructions=_INSTRUCTIONS[VERSION],
    tools=[Tool(function) for function in _TOOLS[VERSION]],
)
# Every tool a step, without retries: a tool call that completed is journaled, and never made twice.
dbos_agent = DBOSAgent(agent, tool_step_config=StepConfig(retries=0))

config: DBOSConfig = {
    'name': 'deploy-app',
    'system_database_url': db_url,
    'application_version': os.environ.get('DEPLOY_APP_VERSION', 'release-1'),
}
DBOS(config=config)


async def main() -> None:
    DBOS.launch()
    counter.record(f'{VERSION}:worker_started')
    if mode == 'start':
        with SetWorkflowID(workflow_id):
            await dbos_agent.run('What is 40 + 2?')
        raise SystemExit('the worker should have been killed before the run finished')
    if mode == 'new-run':
        with SetWorkflowID(f'deploy-new-{uuid.uuid4()}'):
            result = await dbos_agent.run('What is 40 + 2?')
        print(json.dumps({'output': result.output}), flush=True)
        return
    # DBOS.launch() recovered the pending runs of this application version; wait for this one's outcome.
    handle = await DBOS.retrieve_workflow_async(workflow_id)
    output = (await handle.get_result()).output  # DBOS's handle returns the run's `AgentRunResult`
    status = await handle.get_status()
    print(json.dumps({'status': status.status, 'output': output}), flush=True)


asyncio.run(main())
DBOS.destroy()
