"""`DBOSModel` and `ChildWorkflowConfig`, with PydanticAI 2.68's `durable_exec.dbos` or ours.

Usage: dbos_dropin_model.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`.
The program is the same for both: build a `DBOSModel` with 2.68's arguments around a model that counts its requests
and records the responses it is asked to cancel, give it to a plain `Agent`, and in DBOS workflows run the agent
(plain and streamed with a handler) and cancel a suspended response. The report holds the outputs, each workflow's
step names, what the model saw, and `ChildWorkflowConfig`'s keys.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

from dbos import DBOS  # noqa: E402
from pydantic_ai import Agent, AgentStreamEvent, RunContext  # noqa: E402
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart  # noqa: E402
from pydantic_ai.models.function import AgentInfo, DeltaToolCalls, FunctionModel  # noqa: E402

impl, db_url, out = sys.argv[1:4]
if impl == 'pydantic_ai':
    from pydantic_ai.durable_exec.dbos import ChildWorkflowConfig, DBOSModel, StepConfig
else:
    from durable_dbos import ChildWorkflowConfig, DBOSModel, StepConfig


class CountingModel(FunctionModel):
    def __init__(self) -> None:
        super().__init__(self._answer, stream_function=self._stream)
        self.requests = 0
        self.cancelled: list[str | None] = []

    def _answer(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.requests += 1
        return ModelResponse(parts=[TextPart('answer')])

    async def _stream(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterable[str | DeltaToolCalls]:
        self.requests += 1
        yield 'answer'

    async def cancel_suspended_response(self, response: ModelResponse) -> None:
        self.cancelled.append(response.provider_response_id)


event_kinds: list[str] = []


async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in stream:
        event_kinds.append(event.event_kind)


counting = CountingModel()
model = DBOSModel(
    counting, step_name_prefix='compat', step_config=StepConfig(max_attempts=1), get_event_stream_handler=lambda: None
)
streaming = DBOSModel(
    counting, step_name_prefix='compat_stream', step_config=StepConfig(), get_event_stream_handler=lambda: record
)
agent = Agent(model, name='compat_plain')
streaming_agent = Agent(streaming, name='compat_streaming')


@DBOS.workflow()
async def plain(prompt: str) -> str:
    return (await agent.run(prompt)).output


@DBOS.workflow()
async def streamed(prompt: str) -> str:
    return (await streaming_agent.run(prompt, event_stream_handler=record)).output


@DBOS.workflow()
async def cancel(response_id: str) -> None:
    await model.cancel_suspended_response(ModelResponse(parts=[], provider_response_id=response_id))


async def steps(workflow_id: str) -> list[str]:
    return [step['function_name'] for step in await DBOS.list_workflow_steps_async(workflow_id)]


async def main() -> dict[str, Any]:
    DBOS.launch()
    report: dict[str, Any] = {'child_workflow_config_keys': sorted(ChildWorkflowConfig.__annotations__)}
    for name, workflow, argument in (('plain', plain, 'Hi'), ('streamed', streamed, 'Hi'), ('cancel', cancel, 'r1')):
        handle = await DBOS.start_workflow_async(workflow, argument)
        report[name] = {'result': await handle.get_result(), 'steps': await steps(handle.workflow_id)}
    report['requests'] = counting.requests
    report['cancelled'] = counting.cancelled
    report['streamed_event_kinds'] = sorted(set(event_kinds))
    return report


DBOS(config={'name': 'dropin-model', 'system_database_url': db_url, 'log_level': 'WARNING'})
Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
