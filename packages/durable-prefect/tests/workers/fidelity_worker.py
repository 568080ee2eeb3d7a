"""Flows whose recovered results the tests compare with uninterrupted ones; served by a process the tests SIGKILL.

Every model request and tool call is counted at its source in the file named by the flow's `counter_path` parameter,
and each flow writes a report of the results it got (through durable-core's codec, which is exact) to `report_path`;
both survive the kill.

- `typed-agent-in-flow/fidelity`: an agent with a Pydantic output type, run in a user flow. `mode` says where the
  first execution stops: `uninterrupted` (nowhere), `mid_tool` (in the tool call, until killed) or `after_run`
  (after the agent run finished and its result was reported to `<report_path>.before-kill`, until killed).
- `two-runs-in-flow/fidelity`: one agent run twice at once with `asyncio.gather` (deps `R1` and `R2`) in one user
  flow; the model gives both runs the same tool-call ids; each run's second tool call blocks the first time, until
  the process is killed.

Usage: fidelity_worker.py  (serves both deployments until killed; PREFECT_API_URL from the environment)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from durable_core._codec import encode, encode_messages
from durable_core.testing import DurableCallCounter, ToolCall
from durable_prefect import PrefectAgent
from prefect import flow, serve
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RunUsage
from pydantic_core import to_jsonable_python
from support import CountingModel


class City(BaseModel):
    name: str
    country: str
    population: int


def report(result: AgentRunResult[Any]) -> dict[str, Any]:
    """What a caller reads from a result, as JSON: by durable-core's codec, whose decode gives back equal values."""
    return {
        'output_type': type(result.output).__qualname__,
        'output': to_jsonable_python(result.output),
        'all_messages': json.loads(encode_messages(result.all_messages())),
        'new_messages': json.loads(encode_messages(result.new_messages())),
        'usage': json.loads(encode(result.usage, RunUsage)),
        'run_id': result.run_id,
        'conversation_id': result.conversation_id,
    }


def write_report(path: str, value: Any) -> None:
    """Write `value` as JSON, on disk when this returns (the process may be killed right after)."""
    temporary = f'{path}.tmp'
    with open(temporary, 'w') as file:
        json.dump(value, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


@flow(name='typed-agent-in-flow', persist_result=True)
async def typed_agent_in_flow(mode: str, counter_path: str, report_path: str) -> str:
    counter = DurableCallCounter(counter_path)
    model = CountingModel(
        [
            [ToolCall('lookup', {'city': 'Paris'}, tool_call_id='call-lookup')],
            [
                ToolCall(
                    'final_result',
                    {'name': 'Paris', 'country': 'France', 'population': 2_100_000},
                    tool_call_id='call-out',
                )
            ],
        ],
        counter,
    )
    agent = Agent(model, name='typed_fidelity', output_type=City)

    @agent.tool
    async def lookup(ctx: RunContext[Any], city: str) -> dict[str, Any]:
        counter.record(f'lookup:{city}')
        if mode == 'mid_tool' and counter.count(f'lookup:{city}') == 1:
            await asyncio.Event().wait()  # the first process blocks here until it is killed
        return {'city': city, 'country': 'France'}

    result = await PrefectAgent(agent).run('Which city?')
    if mode == 'after_run' and counter.count('after_run') == 0:
        write_report(f'{report_path}.before-kill', report(result))
        counter.record('after_run')
        await asyncio.Event().wait()  # the first process blocks here until it is killed
    write_report(report_path, report(result))
    return type(result.output).__qualname__


def _two_runs_model(counter: DurableCallCounter) -> FunctionModel:
    """Calls `echo('a')`, then `echo('b')`, then answers with the tool results; the same call ids in every run."""

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        [label] = [part.content for part in messages[0].parts if isinstance(part, UserPromptPart)]
        step = sum(isinstance(message, ModelResponse) for message in messages)
        counter.record(f'model:{label}:{step}')
        if step < 2:
            text = 'ab'[step]
            return ModelResponse(parts=[ToolCallPart('echo', {'text': text}, tool_call_id=f'call-{step + 1}')])
        returns = [
            str(part.content)
            for message in messages
            for part in message.parts
            if isinstance(part, ToolReturnPart) and part.tool_name == 'echo'
        ]
        return ModelResponse(parts=[TextPart('done:' + ','.join(returns))])

    return FunctionModel(answer, model_name='two-runs')


@flow(name='two-runs-in-flow', persist_result=True)
async def two_runs_in_flow(counter_path: str, report_path: str) -> list[str]:
    counter = DurableCallCounter(counter_path)
    agent = Agent(_two_runs_model(counter), name='two_runs', deps_type=str)

    @agent.tool
    async def echo(ctx: RunContext[str], text: str) -> str:
        counter.record(f'echo:{ctx.deps}:{ctx.tool_call_id}')
        if ctx.tool_call_id == 'call-2' and counter.count(f'echo:{ctx.deps}:call-2') == 1:
            await asyncio.Event().wait()  # the first process blocks here until it is killed
        return f'echo-{ctx.deps}-{text}'

    prefect_agent = PrefectAgent(agent)
    first, second = await asyncio.gather(prefect_agent.run('R1', deps='R1'), prefect_agent.run('R2', deps='R2'))
    write_report(report_path, {'R1': report(first), 'R2': report(second)})
    return [first.output, second.output]


if __name__ == '__main__':
    serve(
        typed_agent_in_flow.to_deployment(name='fidelity'),
        two_runs_in_flow.to_deployment(name='fidelity'),
        limit=8,
    )
