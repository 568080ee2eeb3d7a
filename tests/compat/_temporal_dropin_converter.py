"""Drop-in program: a user's `PydanticPayloadConverter` subclass is kept by the plugin, and nothing warns.

A standard set-up: the plugin on a client whose data converter has a subclass of Temporal's Pydantic converter, a
worker from that client, an agent with a tool in a workflow (a `TemporalAgent` or with `TemporalDurability`, by the
selected form), and a `Replayer` with the same converter and plugin.
Observed: whether the client kept the user's converter (and it wrote payloads), the output, that it replayed, and
every warning raised meanwhile other than deprecations (issue 14, item 3: none, so `-W error` passes).
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _temporal_dropin_api import api, capabilities, durable
    from pydantic_ai import Agent, PydanticAIDeprecationWarning
    from pydantic_ai.models.test import TestModel
    from temporalio.api.common.v1 import Payload
    from temporalio.client import Client
    from temporalio.contrib.pydantic import PydanticPayloadConverter
    from temporalio.converter import DataConverter
    from temporalio.worker import Replayer, Worker


agent = Agent(TestModel(), name='dropin_converter', capabilities=capabilities())


@agent.tool_plain
def lookup(key: str) -> str:
    return f'{key} found'


converted = durable(agent)


class UsersConverter(PydanticPayloadConverter):
    """The user's own converter: counts the values it writes."""

    written = 0

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        UsersConverter.written += len(values)
        return super().to_payloads(values)


@workflow.defn
class ConverterWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [converted]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await converted.run(prompt)).output


async def main(client: Client, task_queue: str) -> dict[str, Any]:
    data_converter = DataConverter(payload_converter_class=UsersConverter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        warnings.filterwarnings('ignore', category=PydanticAIDeprecationWarning)  # 2.68's wrapper itself
        users_client = await Client.connect(
            client.service_client.config.target_host, data_converter=data_converter, plugins=[api.PydanticAIPlugin()]
        )
        async with Worker(users_client, task_queue=task_queue, workflows=[ConverterWorkflow]):
            handle = await users_client.start_workflow(
                ConverterWorkflow.run, 'Look up x', id=f'dropin-converter-{uuid.uuid4()}', task_queue=task_queue
            )
            output = await handle.result()
        replayer = Replayer(
            workflows=[ConverterWorkflow], data_converter=data_converter, plugins=[api.PydanticAIPlugin()]
        )
        result = await replayer.replay_workflow(await handle.fetch_history(), raise_on_replay_failure=False)
    if result.replay_failure is not None:
        raise result.replay_failure
    return {
        'kept': users_client.data_converter.payload_converter_class is UsersConverter and UsersConverter.written > 0,
        'output': output,
        'replayed': True,
        'warnings': [f'{warning.category.__name__}: {warning.message}' for warning in caught],
    }
