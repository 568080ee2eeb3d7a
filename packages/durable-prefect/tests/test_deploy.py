"""Deploys mid-run: a served deployment of version 1 is SIGKILLed with a run in flight, version 2 reruns the flow run.

Prefect reruns a flow run from the start: its tasks load the results stored under their cache keys. Within one agent
run, a unit's key is its place in the run's conversation, not the agent's instructions or tools (`UNIT_IN_RUN`), so
version 2, with other instructions and one tool more, loads every unit version 1 completed and runs the rest with
its own instructions and tools. A version without a tool the run's model called stops the run with an error naming
the fix, and version 1 finishes it. Every model request and tool call is counted at its source (`DurableCallCounter`,
fsync'ed, outside the processes).

The in-process tests below show the same on a flow retry, and that a tool the model made up is no such error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from durable_core import DurableNameError
from durable_core.testing import DurableCallCounter
from durable_prefect import PrefectAgent
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.states import Scheduled
from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tools import ToolDefinition
from support import WAIT, Worker, wait_for_deployment, wait_for_final_state

WORKER = Path(__file__).parent / 'workers' / 'deploy_worker.py'


class Versions:
    """Worker processes serving one deployment, each of a version of `workers/deploy_worker.py`."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.tmp_path = tmp_path
        self.name = name
        self.counter = DurableCallCounter(tmp_path / 'calls.log')
        self.started: list[Worker] = []

    def start(self, version: str, *, block: bool = False) -> Worker:
        env = {
            'DEPLOY_VERSION': version,
            'DEPLOY_NAME': self.name,
            'DEPLOY_COUNTER': str(self.counter.path),
            'DEPLOY_BLOCK': '1' if block else '',
        }
        worker = Worker(WORKER, self.tmp_path, f'{version}-{len(self.started)}', env)
        self.started.append(worker)
        return worker

    async def rerun(self, flow_run_id: UUID, worker: Worker) -> FlowRun:
        """Schedule the flow run again, once `worker` serves its version of the deployment; wait for its end."""
        await _wait_for_version(f'deploy-agent/{self.name}', worker)
        async with get_client() as client:
            await client.set_flow_run_state(flow_run_id, Scheduled(), force=True)
        return await wait_for_final_state(flow_run_id, worker)


@pytest.fixture
async def versions(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Versions]:
    started = Versions(tmp_path, request.node.name.removeprefix('test_')[:40])
    yield started
    for worker in started.started:
        worker.kill()


async def _start_on_v1_and_kill(versions: Versions) -> UUID:
    """Start a run on version 1 and SIGKILL its worker with the second model request in flight (the tool call done)."""
    first = versions.start('v1', block=True)
    name = f'deploy-agent/{versions.name}'
    await wait_for_deployment(name, first)
    flow_run = await run_deployment(name, parameters={'prompt': 'What is 40 + 2?'}, timeout=0)
    assert isinstance(flow_run, FlowRun)
    await asyncio.to_thread(versions.counter.wait_for, 'v1:model_request:1:blocked', 1, timeout=WAIT)
    first.kill()
    assert versions.counter.counts() == {
        'v1:model_request:0': 1,
        'v1:tool:add': 1,
        'v1:model_request:1': 1,
        'v1:model_request:1:blocked': 1,
    }
    return flow_run.id


async def test_version_2_with_new_instructions_and_a_new_tool_resumes_the_run(versions: Versions) -> None:
    flow_run_id = await _start_on_v1_and_kill(versions)
    finished = await versions.rerun(flow_run_id, versions.start('v2'))
    assert finished.state_name == 'Completed', versions.started[-1].output()
    # The request in flight at the kill ran again, on version 2, with its instructions and tools; the request and
    # the tool call that version 1 completed were loaded, not run again.
    async with get_client() as client:
        output = await (await client.read_flow_run(flow_run_id)).state.aresult()  # type: ignore[union-attr]
    assert output == "[42] (v2, 'Add or multiply the numbers.', tools ['add', 'multiply'])"
    assert versions.counter.counts() == {
        'v1:model_request:0': 1,
        'v1:tool:add': 1,
        'v1:model_request:1': 1,
        'v1:model_request:1:blocked': 1,
        'v2:model_request:1': 1,
    }


async def test_version_2_without_a_called_tool_stops_the_run_and_rolling_back_finishes_it(versions: Versions) -> None:
    flow_run_id = await _start_on_v1_and_kill(versions)
    broken = versions.start('v2-without-add')
    failed = await versions.rerun(flow_run_id, broken)
    assert failed.state_name == 'Failed', broken.output()
    assert failed.state is not None
    assert failed.state.message is not None
    assert "tool(s) ['add']" in failed.state.message, failed.state.message
    assert 'Roll back to the version that started the run' in failed.state.message
    # It stopped at the stored response that calls `add`: nothing ran on it.
    assert not any(name.startswith('v2-without-add:') for name in versions.counter.counts())
    broken.kill()

    finished = await versions.rerun(flow_run_id, versions.start('v1'))
    assert finished.state_name == 'Completed', versions.started[-1].output()
    async with get_client() as client:
        output = await (await client.read_flow_run(flow_run_id)).state.aresult()  # type: ignore[union-attr]
    assert output == "[42] (v1, 'Add the numbers.', tools ['add'])"
    # The request in flight at the kill ran twice on version 1 (killed, then to completion); nothing completed did.
    assert versions.counter.counts() == {
        'v1:model_request:0': 1,
        'v1:tool:add': 1,
        'v1:model_request:1': 2,
        'v1:model_request:1:blocked': 1,
    }


async def _wait_for_version(name: str, worker: Worker) -> None:
    """Wait until `worker` has registered its version of the deployment `name` (it serves it from then on)."""
    version = worker.env['DEPLOY_VERSION']
    async with get_client() as client:
        for _ in range(int(WAIT / 0.25)):
            if worker.process.poll() is not None:
                pytest.fail(f'the worker exited: {worker.output()}')
            try:
                if (await client.read_deployment_by_name(name)).version == version:
                    return
            except Exception:
                pass
            await asyncio.sleep(0.25)
    pytest.fail(f'deployment {name} not at version {version}: {worker.output()}')


# ---- the same on a flow retry, in this process ---------------------------------------------------------------------


def _adder(calls: list[str], *, fail_second_request: bool, made_up_tool: bool = False) -> FunctionModel:
    """A model that calls `add` (or, with `made_up_tool`, a tool no version has), then answers; it logs each request."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        step = sum(isinstance(message, ModelResponse) for message in messages)
        calls.append(f'model_request:{step}')
        if step == 0:
            return ModelResponse(parts=[ToolCallPart('nope' if made_up_tool else 'add', {'a': 40, 'b': 2}, 'c1')])
        if fail_second_request:
            raise RuntimeError('the flow fails in the second request, once')
        answers = [part.content for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
        return ModelResponse(parts=[TextPart(f'{answers}, tools {[tool.name for tool in info.function_tools]}')])

    return FunctionModel(respond, model_name='adder')


def _add_tool(calls: list[str], *, offered: bool) -> Tool[None]:
    def add(a: int, b: int) -> int:
        calls.append('tool:add')
        return a + b

    async def prepare(ctx: RunContext[None], tool_def: ToolDefinition) -> ToolDefinition | None:
        return tool_def if offered else None

    return Tool(add, prepare=prepare)


async def test_a_retry_that_no_longer_offers_a_tool_the_run_called_fails_naming_the_fix() -> None:
    """One agent name holds one set of tools in a process: the retry hides `add` (`prepare`) instead of removing it."""
    calls: list[str] = []

    @flow(retries=1, retry_delay_seconds=0)
    async def retried() -> str:
        first = not calls
        tools = [_add_tool(calls, offered=first)]
        agent = PrefectAgent(Agent(_adder(calls, fail_second_request=first), name='deploy_removed_tool', tools=tools))
        return (await agent.run('What is 40 + 2?')).output

    with pytest.raises(DurableNameError, match=r"tool\(s\) \['add'\], which its model called.*Roll back"):
        await retried()
    # The second attempt loaded the first request's response and stopped there: it ran nothing.
    assert calls == ['model_request:0', 'tool:add', 'model_request:1']


async def test_a_tool_the_model_made_up_is_answered_again_on_a_retry_not_refused() -> None:
    calls: list[str] = []

    @flow(retries=1, retry_delay_seconds=0)
    async def retried() -> str:
        model = _adder(calls, fail_second_request=not calls, made_up_tool=True)
        agent = PrefectAgent(Agent(model, name='deploy_made_up_tool', tools=[_add_tool(calls, offered=True)]))
        return (await agent.run('What is 40 + 2?')).output

    # The first response (the call of the made-up tool) was loaded on the retry, and answered as PydanticAI answers it.
    assert await retried() == "[\"Unknown tool name: 'nope'. Available tools: 'add'\"], tools ['add']"
    assert calls == ['model_request:0', 'model_request:1', 'model_request:1']
