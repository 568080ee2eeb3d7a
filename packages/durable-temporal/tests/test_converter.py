"""The plugin's data converter: a user's payload codec and Pydantic converter subclass are kept, another one warns."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import pytest
from _temporal_support import history_events
from _wf_agent import GeographyWorkflow
from durable_core.testing import TemporalDevServer
from durable_temporal import PydanticAIPayloadConverter, PydanticAIPlugin
from durable_temporal import _activity_args as args_io
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter, ToJsonOptions
from temporalio.converter import DataConverter, DefaultPayloadConverter, PayloadCodec
from temporalio.worker import Replayer, Worker

ENCODING = b'binary/reversed'


class ReversingCodec(PayloadCodec):
    """A stand-in for an encryption codec: reverses each payload's bytes, and counts what it did."""

    def __init__(self) -> None:
        self.encoded = 0
        self.decoded = 0

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.encoded += len(payloads)
        return [
            Payload(metadata={'encoding': ENCODING}, data=payload.SerializeToString()[::-1]) for payload in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.decoded += len(payloads)
        decoded: list[Payload] = []
        for payload in payloads:
            assert payload.metadata['encoding'] == ENCODING
            inner = Payload()
            inner.ParseFromString(payload.data[::-1])
            decoded.append(inner)
        return decoded


async def test_the_users_payload_codec_is_kept(temporal_dev_server: TemporalDevServer, task_queue: str) -> None:
    codec = ReversingCodec()
    client = await Client.connect(
        temporal_dev_server.target, data_converter=DataConverter(payload_codec=codec), plugins=[PydanticAIPlugin()]
    )
    assert client.data_converter.payload_converter_class is PydanticAIPayloadConverter
    assert client.data_converter.payload_codec is codec
    async with Worker(client, task_queue=task_queue, workflows=[GeographyWorkflow]):
        handle = await client.start_workflow(
            GeographyWorkflow.run, 'What is the weather?', id=f'codec-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'It is sunny in Mexico City.'
    assert codec.encoded > 0
    assert codec.decoded > 0
    # Every activity argument in the history went through the codec: nothing readable was stored.
    for event in await history_events(handle):
        if event.HasField('activity_task_scheduled_event_attributes'):
            payloads = event.activity_task_scheduled_event_attributes.input.payloads
            assert payloads
            assert all(payload.metadata['encoding'] == ENCODING for payload in payloads)
            assert all(b'Mexico City' not in payload.data for payload in payloads)


class CustomConverter(DefaultPayloadConverter):
    pass


async def test_a_custom_payload_converter_is_replaced_with_a_warning(temporal_dev_server: TemporalDevServer) -> None:
    with pytest.warns(UserWarning, match=r'replaced the payload converter CustomConverter.*subclass'):
        client = await Client.connect(
            temporal_dev_server.target,
            data_converter=DataConverter(payload_converter_class=CustomConverter),
            plugins=[PydanticAIPlugin()],
        )
    assert client.data_converter.payload_converter_class is PydanticAIPayloadConverter


class OwnPydanticAIConverter(PydanticAIPayloadConverter):
    pass


async def test_a_subclass_of_ours_is_kept_as_it_is(temporal_dev_server: TemporalDevServer) -> None:
    client = await Client.connect(
        temporal_dev_server.target,
        data_converter=DataConverter(payload_converter_class=OwnPydanticAIConverter),
        plugins=[PydanticAIPlugin()],
    )
    assert client.data_converter.payload_converter_class is OwnPydanticAIConverter


class UsersPydanticConverter(PydanticPayloadConverter):
    """A user's subclass of Temporal's Pydantic converter (with options of its own), counting what it wrote."""

    written = 0

    def __init__(self) -> None:
        super().__init__(ToJsonOptions(exclude_unset=True))

    def to_payloads(self, values: Sequence[object]) -> list[Payload]:
        UsersPydanticConverter.written += len(values)
        return super().to_payloads(values)


@pytest.mark.filterwarnings('error')
async def test_a_users_pydantic_converter_is_kept_without_a_warning(
    temporal_dev_server: TemporalDevServer, task_queue: str
) -> None:
    client = await Client.connect(
        temporal_dev_server.target,
        data_converter=DataConverter(payload_converter_class=UsersPydanticConverter),
        plugins=[PydanticAIPlugin()],
    )
    assert client.data_converter.payload_converter_class is UsersPydanticConverter
    async with Worker(client, task_queue=task_queue, workflows=[GeographyWorkflow]):
        handle = await client.start_workflow(
            GeographyWorkflow.run, 'What is the weather?', id=f'users-converter-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == 'It is sunny in Mexico City.'
    assert UsersPydanticConverter.written > 0
    # Our activity payloads are written as the JSON they hold, as our own converter writes them: a JSON string
    # holding JSON text would escape its quotes.
    payloads = [
        payload
        for event in await history_events(handle)
        for payload in (
            *event.activity_task_scheduled_event_attributes.input.payloads,
            *event.activity_task_completed_event_attributes.result.payloads,
        )
    ]
    assert len(payloads) > 3  # three activities: their inputs and results
    assert all(b'\\"' not in payload.data for payload in payloads)
    assert b'{"day":"monday"}' in [payload.data for payload in payloads]
    replayer = Replayer(
        workflows=[GeographyWorkflow],
        data_converter=DataConverter(payload_converter_class=UsersPydanticConverter),
        plugins=[PydanticAIPlugin()],
    )
    result = await replayer.replay_workflow(await handle.fetch_history(), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


def test_a_model_result_carries_the_offered_tools_before_the_response_cut_out_unparsed() -> None:
    response = '{"parts":[{"part_kind":"text","content":"A \\"quoted\\" }"}],"kind":"response"}'
    result = args_io.encode_model_result(response, ['add', 'ünïcode'])
    assert json.loads(result) == {'offered_tools': ['add', 'ünïcode'], 'response': json.loads(response)}
    assert args_io.decode_model_result(result) == (response, ['add', 'ünïcode'])
    # Written again by a converter with other whitespace: the same response and tools.
    spaced = json.dumps(json.loads(result), indent=2, ensure_ascii=False)
    text, offered = args_io.decode_model_result(spaced)
    assert (json.loads(text), offered) == (json.loads(response), ['add', 'ünïcode'])
    # A result of a release that did not record the tools: the response as it is, nothing to check.
    assert args_io.decode_model_result(response) == (response, None)
