"""A DBOS app whose agent runs are SIGKILLed mid-tool and recovered, to check what comes back from the journal.

One agent (`journal_agent`, deps `str`, output `Echoes`), whose model calls the tool `echo` twice in parallel with
the same tool-call ids in every run (`call-1`, `call-2`), then returns the echoes as its output. Every model request
and tool call is counted at its source, in a file that survives the kill.

Shapes: `gather` is a user's `@DBOS.workflow` that runs the agent twice with `asyncio.gather` (deps `R1` and `R2`);
`single` is one run of the agent as its own workflow (deps `R1`).

Modes:
- `start`: run the shape under WORKFLOW_ID; `echo(n=2)` never returns, so the test kills the process there. R1's
  first model request is slow here, so the runs' steps interleave differently than on recovery.
- `recover`: launch (DBOS recovers the run), print the recovered result read through DBOS's own handle, then run
  the shape again uninterrupted under another id (counted as `clean:...`) and print its result too.
- `read`: a fresh process that only reads WORKFLOW_ID's result through DBOS's handle; with `--without-agent` it
  does not create the agent, and prints the error.

With `--portable`, the app configures DBOS's portable JSON serializer.

Usage: journal_worker.py MODE DB_URL COUNTER_FILE WORKFLOW_ID [--shape gather|single] [--without-agent] [--portable]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from dbos import DBOS, DBOSConfig, DBOSPortableJSONSerializer, SetWorkflowID
from durable_core.testing import DurableCallCounter
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart, ToolReturnPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

parser = argparse.ArgumentParser()
parser.add_argument('mode', choices=['start', 'recover', 'read'])
parser.add_argument('db_url')
parser.add_argument('counter_file')
parser.add_argument('workflow_id')
parser.add_argument('--shape', choices=['gather', 'single'], default='gather')
parser.add_argument('--without-agent', action='store_true')
parser.add_argument('--portable', action='store_true')
args = parser.parse_args()

counter = DurableCallCounter(args.counter_file)
first_process = args.mode == 'start'
label = ''  # 'clean:' while the recovering process runs the shape uninterrupted


class Echoes(BaseModel):
    run: str
    texts: list[str]


def _prompt(messages: list[ModelMessage]) -> str:
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    raise AssertionError('no user prompt')


async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    prompt = _prompt(messages)
    returns = [
        str(part.content)
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart)
    ]
    if not returns:
        counter.record(f'{label}model:{prompt}:1')
        if first_process and prompt == 'R1':
            await asyncio.sleep(0.5)  # R2's tool steps start first here, and not on recovery
        return ModelResponse(
            parts=[
                ToolCallPart('echo', {'n': 1}, tool_call_id='call-1'),
                ToolCallPart('echo', {'n': 2}, tool_call_id='call-2'),
            ]
        )
    counter.record(f'{label}model:{prompt}:2')
    output_tool = info.output_tools[0].name
    return ModelResponse(parts=[ToolCallPart(output_tool, {'run': prompt, 'texts': sorted(returns)}, 'call-3')])


agent = Agent(FunctionModel(respond), name='journal_agent', deps_type=str, output_type=Echoes)


@agent.tool
async def echo(ctx: RunContext[str], n: int) -> str:
    counter.record(f'{label}tool:{ctx.deps}:{n}')
    if first_process and n == 2:
        await asyncio.Event().wait()  # in flight when the process is killed
    return f'echo-{ctx.deps}-{n}'


if not args.without_agent:
    from durable_dbos import DBOSAgent, StepConfig

    dbos_agent = DBOSAgent(agent, tool_step_config=StepConfig(retries=0))

    @DBOS.workflow(name='gather_two_runs')
    async def gather_two_runs() -> list[dict[str, Any]]:
        results = await asyncio.gather(dbos_agent.run('R1', deps='R1'), dbos_agent.run('R2', deps='R2'))
        return [describe(result) for result in results]

    async def run_shape(workflow_id: str) -> Any:
        with SetWorkflowID(workflow_id):
            if args.shape == 'gather':
                return await gather_two_runs()
            return describe(await dbos_agent.run('R1', deps='R1'))


def describe(result: Any) -> dict[str, Any]:
    """A run's result as JSON, with the types it came back with."""
    return {
        'is_agent_run_result': isinstance(result, AgentRunResult),
        'output_type': type(result.output).__name__,
        'output': result.output.model_dump() if isinstance(result.output, BaseModel) else result.output,
        'message_kinds': [message.kind for message in result.all_messages()],
    }


async def journal(workflow_id: str) -> dict[str, Any]:
    """The step names of a workflow and of each of its child workflows."""
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    return {
        'steps': [step['function_name'] for step in steps],
        'children': [
            [child['function_name'] for child in await DBOS.list_workflow_steps_async(step['child_workflow_id'])]
            for step in steps
            if step['child_workflow_id'] is not None and step['function_name'] != 'DBOS.getResult'
        ],
    }


config: DBOSConfig = {'name': 'journal-app', 'system_database_url': args.db_url}
if args.portable:
    config['serializer'] = DBOSPortableJSONSerializer()
DBOS(config=config)


async def main() -> None:
    global label
    DBOS.launch()
    if first_process:
        await run_shape(args.workflow_id)
        raise SystemExit('the first process should have been killed before it finished')
    handle = await DBOS.retrieve_workflow_async(args.workflow_id)
    if args.mode == 'read':
        try:
            value = await handle.get_result()
        except Exception as error:
            print(json.dumps({'error': type(error).__name__, 'message': str(error)}), flush=True)
            return
        print(json.dumps({'result': value if args.shape == 'gather' else describe(value)}), flush=True)
        return
    # DBOS.launch() recovered the pending workflow; DBOS's own handle returns its result.
    value = await handle.get_result()
    recovered = value if args.shape == 'gather' else describe(value)
    recovered_journal = await journal(args.workflow_id)
    label = 'clean:'
    clean = await run_shape(f'{args.workflow_id}-clean')
    clean_journal = await journal(f'{args.workflow_id}-clean')
    report = {'recovered': recovered, 'journal': recovered_journal, 'clean': clean, 'clean_journal': clean_journal}
    print(json.dumps(report), flush=True)


asyncio.run(main())
DBOS.destroy()
sys.exit(0)
