"""Tools on DBOS: the `@DBOS.step` convention, opt-in steps per agent and per tool, MCP, dynamic toolsets."""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from _support import SwappableModel, step_names
from dbos import DBOS, SetWorkflowID
from durable_core import StepPolicy
from durable_core._tool_outcomes import replay_tool_call
from durable_core.testing import ToolCall
from durable_core.testing.mcp_calculator import MCP_CALCULATOR_PATH
from durable_dbos import DBOSAgent, StepConfig
from fastmcp.client import Client
from fastmcp.client.transports import PythonStdioTransport
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.messages import (
    InstructionPart,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.toolsets import FunctionToolset

calls: list[str] = []
flaky_failures = {'left': 0}

# -- the DBOS convention: a decorated tool is a step, a plain tool runs in workflow code ------------
convention_model = SwappableModel()
convention_agent = Agent(convention_model, name='tools_convention')


@convention_agent.tool_plain
@DBOS.step(name='tools_convention.fetch_price')
async def fetch_price(item: str) -> float:
    calls.append(f'fetch_price:{item}')
    return 9.5


@convention_agent.tool_plain
def double(x: float) -> float:
    calls.append(f'double:{x}')
    return x * 2


dbos_convention = DBOSAgent(convention_agent)

# -- opt-in: every tool a step, one tool configured out, one retried by a StepPolicy ---------------
opt_in_model = SwappableModel()
extra_tools = FunctionToolset[None](id='extra')


@extra_tools.tool_plain
def flaky(x: int) -> int:
    calls.append(f'flaky:{x}')
    if flaky_failures['left'] > 0:
        flaky_failures['left'] -= 1
        raise ConnectionError('transient')
    return x + 1


@extra_tools.tool_plain
def pure(x: int) -> int:
    calls.append(f'pure:{x}')
    return x * 10


@extra_tools.tool_plain
def picky(x: int) -> int:
    calls.append(f'picky:{x}')
    if x < 0:
        raise ModelRetry('x must not be negative')
    return x


opt_in_agent = Agent(opt_in_model, name='tools_opt_in', toolsets=[extra_tools])
dbos_opt_in = DBOSAgent(
    opt_in_agent,
    tool_step_config=StepConfig(retries=0),
    tool_step_config_by_name={
        'pure': None,
        'flaky': StepPolicy(retries=2, initial_interval=0.01, backoff_coefficient=1.0),
    },
)

# -- MCP over a real stdio server ---------------------------------------------------------------
mcp_model = SwappableModel()
mcp_calls_file = Path(tempfile.mkdtemp(prefix='durable-dbos-mcp-')) / 'mcp_calls.txt'
atexit.register(shutil.rmtree, mcp_calls_file.parent, True)
calculator = MCPToolset(
    Client(
        PythonStdioTransport(MCP_CALCULATOR_PATH, args=[str(mcp_calls_file)]),
        init_timeout=60,
    ),
    id='calculator',
    include_instructions=True,
)
mcp_agent = Agent(mcp_model, name='tools_mcp', toolsets=[calculator])
dbos_mcp = DBOSAgent(mcp_agent, mcp_step_config=StepConfig(retries=1))

# -- a dynamic toolset ---------------------------------------------------------------------------
dynamic_model = SwappableModel()
dynamic_agent = Agent(dynamic_model, name='tools_dynamic', deps_type=str)


@dynamic_agent.toolset(id='per_user')
def per_user_tools(ctx: RunContext[str]) -> FunctionToolset[str]:
    toolset = FunctionToolset[str]()

    @toolset.tool
    def whoami(inner: RunContext[str]) -> str:
        calls.append(f'whoami:{inner.deps}')
        return f'you are {inner.deps}'

    return toolset


dbos_dynamic = DBOSAgent(dynamic_agent, mcp_step_config=StepConfig(retries=0))

# -- a dynamic toolset without an id: its id is its function's qualified name ------------------------
derived_model = SwappableModel()
derived_agent = Agent(derived_model, name='tools_derived', deps_type=str)


@derived_agent.toolset
def derived_user_tools(ctx: RunContext[str]) -> FunctionToolset[str]:
    toolset = FunctionToolset[str]()

    @toolset.tool
    def greet(inner: RunContext[str]) -> str:
        calls.append(f'greet:{inner.deps}')
        return f'hello {inner.deps}'

    return toolset


dbos_derived = DBOSAgent(derived_agent)

# -- parallel and sequential tool calls ------------------------------------------------------------
parallel_model = SwappableModel()
parallel_agent = Agent(parallel_model, name='tools_parallel')


@parallel_agent.tool_plain
async def lookup(n: int) -> int:
    calls.append(f'lookup:{n}')
    return n * n


dbos_parallel = DBOSAgent(parallel_agent, tool_step_config={'retries': 0})
sequential_agent = Agent(parallel_model, name='tools_sequential', tools=[lookup])
dbos_sequential = DBOSAgent(sequential_agent, tool_step_config={}, parallel_execution_mode='sequential')


@pytest.fixture(autouse=True)
def _reset() -> None:
    calls.clear()
    flaky_failures['left'] = 0


# -- what a step made, the run that made it takes as it is; a re-execution reads it back from the journal ---------
made_responses: list[ModelResponse] = []
made_results: list[object] = []


def _catalogue_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    asked = any(isinstance(message, ModelResponse) for message in messages)
    response = ModelResponse(parts=[TextPart('done')] if asked else [ToolCallPart('catalogue', {})])
    made_responses.append(response)
    return response


catalogue_agent = Agent(FunctionModel(_catalogue_model), name='tools_made_here')


@catalogue_agent.tool_plain
def catalogue() -> list[object]:
    # JSON data, and a value the codec restores (a tuple in a field typed `Any`): both ways of writing a result.
    result: list[object] = [{'sku': 'a1', 'stock': 3}, ('kg', 2.5)]
    made_results.append(result)
    return result


dbos_catalogue = DBOSAgent(catalogue_agent, tool_step_config=StepConfig())


async def test_decorated_tool_is_a_step_and_plain_tool_runs_in_workflow_code(dbos: DBOS) -> None:
    convention_model.use([[ToolCall('fetch_price', {'item': 'tea'})], [ToolCall('double', {'x': 9.5})], 'It is 19.'])
    workflow_id = f'convention-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_convention.run('Price of two teas?')
    assert result.output == 'It is 19.'
    assert calls == ['fetch_price:tea', 'double:9.5']
    assert await step_names(workflow_id) == [
        'tools_convention.model_request',
        'tools_convention.fetch_price',
        'tools_convention.model_request',
        'tools_convention.model_request',
    ]


async def test_tool_step_config_makes_tools_steps_except_those_configured_out(dbos: DBOS) -> None:
    flaky_failures['left'] = 2
    opt_in_model.use([[ToolCall('flaky', {'x': 1}), ToolCall('pure', {'x': 2})], 'Done.'])
    workflow_id = f'opt-in-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_opt_in.run('Go')
    assert result.output == 'Done.'
    # flaky failed twice and succeeded on its third attempt (StepPolicy(retries=2)); pure ran once, inline.
    assert sorted(calls) == ['flaky:1', 'flaky:1', 'flaky:1', 'pure:2']
    assert await step_names(workflow_id) == [
        'tools_opt_in.model_request',
        'tools_opt_in.tool_call.extra.flaky',
        'tools_opt_in.model_request',
    ]
    # The unit list names what DBOS journaled (and the cancel of a background response, which this run had none
    # of), and not `pure`, which ran in workflow code.
    assert dbos_opt_in.durable_unit_names() == [
        'tools_opt_in.model_cancel',
        'tools_opt_in.model_request',
        'tools_opt_in.run',
        'tools_opt_in.tool_call.extra.flaky',
        'tools_opt_in.tool_call.extra.picky',
    ]


async def test_a_step_that_exhausts_its_retries_fails_the_run(dbos: DBOS) -> None:
    flaky_failures['left'] = 5
    opt_in_model.use([[ToolCall('flaky', {'x': 1})], 'Never.'])
    with pytest.raises(Exception, match='exceeded its maximum of 3 retries'):
        await dbos_opt_in.run('Go')
    assert calls == ['flaky:1'] * 3


async def test_model_retry_from_a_step_tool_is_an_answer_not_a_step_failure(dbos: DBOS) -> None:
    scripted = opt_in_model.use([[ToolCall('picky', {'x': -1})], [ToolCall('picky', {'x': 3})], 'Fine.'])
    workflow_id = f'retry-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_opt_in.run('Go')
    assert result.output == 'Fine.'
    assert calls == ['picky:-1', 'picky:3']
    assert scripted.request_count == 3
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    assert '"outcome":"retry"' in steps[1]['output']


async def test_mcp_listing_instructions_and_calls_are_steps(dbos: DBOS) -> None:
    mcp_calls_file.unlink(missing_ok=True)
    scripted = mcp_model.use([[ToolCall('add', {'a': 2, 'b': 3})], [ToolCall('shout', {'text': 'hi'})], 'Five.'])
    workflow_id = f'mcp-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_mcp.run('Add 2 and 3')
    assert result.output == 'Five.'
    assert mcp_calls_file.read_text().split() == ['add', 'shout']
    names = await step_names(workflow_id)
    assert names.count('tools_mcp.mcp_get_tools.calculator') == 1
    assert names.count('tools_mcp.mcp_get_instructions.calculator') == 1
    assert names.count('tools_mcp.mcp_call_tool.calculator') == 2
    assert names.count('tools_mcp.model_request') == 3
    assert set(names) | {'tools_mcp.run', 'tools_mcp.model_cancel'} == set(dbos_mcp.durable_unit_names())
    instructions = scripted.requests[0][0].instructions or ''
    assert 'Use add for sums.' in instructions


async def test_dynamic_toolset_calls_are_steps(dbos: DBOS) -> None:
    dynamic_model.use([[ToolCall('whoami')], 'Hello Ada.'])
    workflow_id = f'dynamic-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_dynamic.run('Who am I?', deps='Ada')
    assert result.output == 'Hello Ada.'
    assert calls == ['whoami:Ada']
    assert await step_names(workflow_id) == [
        'tools_dynamic.model_request',
        'tools_dynamic.toolset_call_tool.per_user',
        'tools_dynamic.model_request',
    ]
    assert set(await step_names(workflow_id)) | {'tools_dynamic.run', 'tools_dynamic.model_cancel'} == set(
        dbos_dynamic.durable_unit_names()
    )


async def test_a_dynamic_toolset_without_id_has_steps_named_after_its_function(dbos: DBOS) -> None:
    derived_model.use([[ToolCall('greet')], 'Hi Ada.'])
    workflow_id = f'derived-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_derived.run('Greet me.', deps='Ada')
    assert result.output == 'Hi Ada.'
    assert calls == ['greet:Ada']
    assert await step_names(workflow_id) == [
        'tools_derived.model_request',
        'tools_derived.toolset_call_tool.derived_user_tools',
        'tools_derived.model_request',
    ]
    assert set(await step_names(workflow_id)) | {'tools_derived.run', 'tools_derived.model_cancel'} == set(
        dbos_derived.durable_unit_names()
    )


async def test_parallel_calls_are_journaled_in_call_order(dbos: DBOS) -> None:
    parallel_model.use([[ToolCall('lookup', {'n': n}, tool_call_id=f'call-{n}') for n in range(10)], 'Squares.'])
    workflow_id = f'parallel-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_parallel.run('Squares?')
    assert result.output == 'Squares.'
    assert sorted(calls) == sorted(f'lookup:{n}' for n in range(10))
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    tool_outputs = [step['output'] for step in steps if step['function_name'].endswith('lookup')]
    assert [replay_tool_call(output) for output in tool_outputs] == [n * n for n in range(10)]


async def test_sequential_mode_runs_one_call_at_a_time(dbos: DBOS) -> None:
    parallel_model.use([[ToolCall('lookup', {'n': n}) for n in (3, 1, 2)], 'Done.'])
    workflow_id = f'sequential-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        await dbos_sequential.run('Go')
    assert calls == ['lookup:3', 'lookup:1', 'lookup:2']
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    assert [replay_tool_call(step['output']) for step in steps if 'lookup' in step['function_name']] == [9, 1, 4]


async def test_mcp_instruction_parts_match_a_plain_run(dbos: DBOS) -> None:
    """A durable run sends the model the MCP server's instruction parts a plain run sends, field by field.

    The server's block is keyed by the toolset's id and appended on change; the durable wrapper returns the
    journaled part itself, so it must carry that id too, or PydanticAI downgrades the block to rewriting.
    """
    sent: list[tuple[list[InstructionPart], list[ModelMessage]]] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        sent.append((list(info.model_request_parameters.instruction_parts or []), messages))
        return ModelResponse(parts=[TextPart('Done.')])

    mcp_model.wrapped = FunctionModel(answer)
    plain = await mcp_agent.run('Hi')
    with SetWorkflowID(f'mcp-parts-{uuid.uuid4()}'):
        durable = await dbos_mcp.run('Hi')
    assert plain.output == durable.output == 'Done.'
    (plain_parts, plain_messages), (durable_parts, durable_messages) = sent
    assert any('Use add for sums.' in part.content for part in plain_parts)
    assert [dataclasses.asdict(part) for part in durable_parts] == [dataclasses.asdict(part) for part in plain_parts]
    plain_request, durable_request = plain_messages[0], durable_messages[0]
    assert isinstance(plain_request, ModelRequest)
    assert isinstance(durable_request, ModelRequest)
    assert durable_request.instructions == plain_request.instructions


async def test_the_run_that_made_a_step_result_takes_it_as_is_and_a_re_execution_reads_it_from_the_journal(
    dbos: DBOS,
) -> None:
    made_responses.clear()
    made_results.clear()
    workflow_id = f'made-here-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        result = await dbos_catalogue.run('What is in stock?')
    messages = result.all_messages()
    tool_return = messages[2].parts[0]
    assert isinstance(tool_return, ToolReturnPart)
    # Decoding what this run journaled would have made equal copies; it takes the objects themselves.
    assert messages[1] is made_responses[0]
    assert tool_return.content is made_results[0]

    # A fork re-executes the workflow from its final model request: the steps before it come from the journal.
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    final_request = max(step['function_id'] for step in steps if step['function_name'].endswith('model_request'))
    forked = await (await DBOS.fork_workflow_async(workflow_id, final_request)).get_result()
    assert len(made_results) == 1
    assert len(made_responses) == 3
    replayed = forked.all_messages()
    replayed_return = replayed[2].parts[0]
    assert isinstance(replayed_return, ToolReturnPart)
    # The fork is another run (its own workflow id), so PydanticAI stamps the response with its own run ids.
    assert dataclasses.replace(replayed[1], run_id=None, conversation_id=None) == dataclasses.replace(
        made_responses[0], run_id=None, conversation_id=None
    )
    assert replayed[1] is not made_responses[0]
    assert replayed_return.content == made_results[0]
    assert replayed_return.content is not made_results[0]
    assert type(replayed_return.content[1]) is tuple  # pyright: ignore[reportUnknownArgumentType, reportIndexIssue]
    assert forked.output == result.output == 'done'
