"""Runs of a DBOSAgent: each run a workflow, each model request and configured tool a step, stored as JSON."""

from __future__ import annotations

import base64
import json
import pickle
import pickletools
import uuid

import pytest
from _support import SwappableModel, raw_records, step_names
from conftest import DbosBackend
from dbos import DBOS, SetWorkflowID
from durable_core.testing import ToolCall
from durable_dbos import DBOSAgent, StepConfig
from durable_dbos._journal import result_from_journal
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

model = SwappableModel()
tool_calls: list[str] = []


class Location(BaseModel):
    city: str
    units: str = 'metric'


agent = Agent(model, name='agent_runs', deps_type=Location, instructions='Be brief.')


@agent.tool
def weather(ctx: RunContext[Location], day: str) -> str:
    tool_calls.append(f'weather:{ctx.deps.city}:{day}')
    return f'sunny in {ctx.deps.city} on {day} ({ctx.deps.units})'


dbos_agent = DBOSAgent(agent, tool_step_config=StepConfig(retries=1))

typed_agent = DBOSAgent(Agent(model, name='typed_runs', output_type=Location))

fast_model = FunctionModel(lambda messages, info: ModelResponse(parts=[TextPart('fast answer')]), model_name='fast')
plain_agent = Agent(model, name='agent_models')
models_agent = DBOSAgent(plain_agent, models={'fast': fast_model})


@DBOS.workflow()
async def user_workflow(prompt: str) -> str:
    first = await models_agent.run(prompt)
    second = await models_agent.run('again', message_history=first.all_messages())
    return f'{first.output} / {second.output}'


@DBOS.workflow()
async def iter_workflow(prompt: str) -> list[str]:
    kinds: list[str] = []
    async with models_agent.iter(prompt) as run:
        async for node in run:
            kinds.append(type(node).__name__)
    return kinds


def pickled_strings(text: str) -> list[str]:
    """The strings in a DBOS pickle record, in order: what the pickle names and holds."""
    return [arg for _, arg, _ in pickletools.genops(base64.b64decode(text)) if isinstance(arg, str)]


@pytest.fixture(autouse=True)
def _reset() -> None:
    tool_calls.clear()


async def test_run_is_a_workflow_of_steps(dbos: DBOS) -> None:
    scripted = model.use([[ToolCall('weather', {'day': 'monday'})], 'Sunny.'])
    workflow_id = f'run-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_agent.run('Weather?', deps=Location(city='Oslo'))
    assert result.output == 'Sunny.'
    assert scripted.request_count == 2
    assert tool_calls == ['weather:Oslo:monday']
    assert await step_names(workflow_id) == [
        'agent_runs.model_request',
        'agent_runs.tool_call.agent.weather',
        'agent_runs.model_request',
    ]
    status = await DBOS.get_workflow_status_async(workflow_id)
    assert status is not None
    assert (status.name, status.status) == ('agent_runs.run', 'SUCCESS')


async def test_a_completed_workflow_id_returns_its_result_without_running_again(dbos: DBOS) -> None:
    scripted = model.use(['Once.'])
    workflow_id = f'again-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        first = await dbos_agent.run('Hi', deps=Location(city='Rome'))
    with SetWorkflowID(workflow_id):
        second = await dbos_agent.run('Hi', deps=Location(city='Rome'))
    assert first.output == second.output == 'Once.'
    assert scripted.request_count == 1
    assert [m.kind for m in second.all_messages()] == [m.kind for m in first.all_messages()]


async def test_workflow_records_hold_our_json_and_steps_hold_json_text(dbos: DBOS, dbos_backend: DbosBackend) -> None:
    model.use([[ToolCall('weather', {'day': 'friday'})], 'Done.'])
    workflow_id = f'json-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        await dbos_agent.run('Weather?', deps=Location(city='Lima', units='imperial'))
    records = raw_records(dbos_backend.system_database_url, workflow_id)
    assert [table for table, _, _ in records] == ['workflow_input', 'workflow_output'] + ['step_output'] * 3
    # With DBOS's default serializer (pickle), the workflow's inputs are our codec's JSON text, pickled...
    assert {serialization for table, serialization, _ in records if table.startswith('workflow')} == {'py_pickle'}
    inputs = json.loads(pickle.loads(base64.b64decode(records[0][2] or ''))['args'][0])
    assert inputs['deps'] == {'city': 'Lima', 'units': 'imperial'}
    # ...and its result pickles as a call of durable_dbos._journal.rebuild_run_result(agent name, codec JSON):
    # no PydanticAI object is pickled.
    strings = pickled_strings(records[1][2] or '')
    assert strings[:3] == ['durable_dbos._journal', 'rebuild_run_result', 'agent_runs']
    assert len(strings) == 4
    assert json.loads(strings[3])['output'] == 'Done.'
    # A step's value is our codec's JSON text; DBOS wraps it with the app's serializer (pickle by default,
    # portable JSON with DBOSConfig(serializer=DBOSPortableJSONSerializer()): see test_recovery).
    outputs = [step['output'] for step in await DBOS.list_workflow_steps_async(workflow_id)]
    assert all(isinstance(output, str) for output in outputs)
    assert json.loads(outputs[0])['parts'][0]['tool_name'] == 'weather'
    assert 'sunny in Lima on friday (imperial)' in outputs[1]


async def test_dbos_handle_returns_a_typed_result(dbos: DBOS) -> None:
    model.use([[ToolCall('weather', {'day': 'sunday'})], 'Warm.'])
    workflow_id = f'handle-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        first = await dbos_agent.run('Weather?', deps=Location(city='Lima'))
    # What a caller that was gone after a crash does: DBOS's own handle, read back from the journal.
    recorded = await (await DBOS.retrieve_workflow_async(workflow_id)).get_result()
    assert isinstance(recorded, AgentRunResult)
    assert recorded.output == first.output == 'Warm.'
    assert recorded.all_messages() == first.all_messages()
    assert recorded.usage == first.usage


async def test_typed_output_is_validated_as_the_agent_output_type_when_read_back(dbos: DBOS) -> None:
    model.use([[ToolCall('final_result', {'city': 'Oslo', 'units': 'imperial'})]])
    workflow_id = f'typed-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        first = await typed_agent.run('Where?')
    with SetWorkflowID(workflow_id):
        again = await typed_agent.run('Where?')
    recorded = await (await DBOS.retrieve_workflow_async(workflow_id)).get_result()
    for result in (first, again, recorded):
        assert isinstance(result, AgentRunResult)
        assert result.output == Location(city='Oslo', units='imperial')
        assert type(result.output) is Location


def test_a_result_journaled_as_json_text_is_still_read() -> None:
    # The format before results were pickled as their agent and JSON: the codec's JSON text (portable JSON).
    run = AgentRunResult(Location(city='Lima'))
    text = typed_agent.encode_result(run)
    result = result_from_journal('typed_runs', text)
    assert type(result.output) is Location
    assert result.output == Location(city='Lima')


async def test_run_inside_a_user_workflow_is_a_child_workflow(dbos: DBOS) -> None:
    model.use(['First.', 'Second.'])
    workflow_id = f'user-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        output = await user_workflow('Hello')
    assert output == 'First. / Second.'
    # Each run is a child workflow `<agent>.run`: its start and its result in the user's journal.
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    assert [step['function_name'] for step in steps] == ['agent_models.run', 'DBOS.getResult'] * 2
    children = [step['child_workflow_id'] for step in steps if step['function_name'] == 'agent_models.run']
    assert len(set(children)) == 2
    for child in children:
        assert child is not None
        assert await step_names(child) == ['agent_models.model_request']


async def test_iter_inside_a_workflow(dbos: DBOS) -> None:
    model.use(['Iterated.'])
    workflow_id = f'iter-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        kinds = await iter_workflow('Go')
    assert kinds == ['UserPromptNode', 'ModelRequestNode', 'CallToolsNode', 'End']
    assert await step_names(workflow_id) == ['agent_models.model_request']


async def test_runtime_model_selection_by_key_and_string(dbos: DBOS) -> None:
    scripted = model.use(['Default.'])
    assert (await models_agent.run('Hi')).output == 'Default.'
    assert (await models_agent.run('Hi', model='fast')).output == 'fast answer'
    assert (await models_agent.run('Hi', model='test')).output == 'success (no tool calls)'
    assert scripted.request_count == 1


def test_run_sync_outside_a_workflow(dbos: DBOS) -> None:
    model.use(['Synced.'])
    assert models_agent.run_sync('Hi').output == 'Synced.'


async def test_run_stream_outside_a_workflow_behaves_like_the_plain_agent(dbos: DBOS) -> None:
    model.use(['Streamed answer.'])
    async with models_agent.run_stream('Hi') as stream:
        chunks = [chunk async for chunk in stream.stream_text(delta=True)]
    assert ''.join(chunks) == 'Streamed answer.'


async def test_message_history_carries_into_a_second_run(dbos: DBOS) -> None:
    seen: list[int] = []

    def answer(messages: list[ModelRequest | ModelResponse], info: AgentInfo) -> ModelResponse:
        seen.append(len(messages))
        return ModelResponse(parts=[TextPart(f'turn {len(messages)}')])

    model.wrapped = FunctionModel(answer)
    first = await dbos_agent.run('one', deps=Location(city='Kyiv'))
    second = await dbos_agent.run('two', deps=Location(city='Kyiv'), message_history=first.all_messages())
    assert seen == [1, 3]
    assert second.output == 'turn 3'
    prompts = [
        part.content
        for message in second.all_messages()
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, UserPromptPart)
    ]
    assert prompts == ['one', 'two']


async def test_run_id_timeout_and_retries_are_journaled_with_the_run(dbos: DBOS, dbos_backend: DbosBackend) -> None:
    model.use(['With my own id.'])
    workflow_id = f'explicit-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await models_agent.run('Hi', run_id='my-run-1', timeout=30.0, retries=2)
    assert result.run_id == 'my-run-1'
    records = raw_records(dbos_backend.system_database_url, workflow_id)
    inputs = json.loads(pickle.loads(base64.b64decode(records[0][2] or ''))['args'][0])
    assert (inputs['run_id'], inputs['timeout'], inputs['retries']) == ('my-run-1', 30.0, 2)


async def test_ids_are_replay_stable(dbos: DBOS) -> None:
    model.use(['One.', 'Two.'])
    first = await models_agent.run('Hi')
    second = await models_agent.run('Hi')
    # Derived from the workflow id: different runs get different ids, the same run the same ones.
    assert first.run_id != second.run_id
    assert first.conversation_id != second.conversation_id
    workflow_id = f'stable-{uuid.uuid4()}'
    model.use(['Three.'])
    with SetWorkflowID(workflow_id):
        third = await models_agent.run('Hi')
    with SetWorkflowID(workflow_id):
        again = await models_agent.run('Hi')
    assert (again.run_id, again.conversation_id) == (third.run_id, third.conversation_id)
