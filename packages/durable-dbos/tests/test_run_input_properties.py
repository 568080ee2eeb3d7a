"""Property test: generated run arguments survive DBOS's journal and reach the run unchanged (issue 12, bugs 2, 5).

Each example runs one agent with the same generated arguments (durable-core's shared strategies) three times: as a
plain PydanticAI run, as a DBOS workflow with a known id, and again with that id, on SQLite and on PostgreSQL. Then:

- the workflow's input, as DBOS stores it, decodes to exactly the inputs built from the arguments (explicit `None`
  usage limits, `BinaryContent` images and dates in the history included);
- the model and the tool of the workflow saw exactly what they saw in the plain run (messages, model settings,
  instructions, deps, metadata, usage limits); only the timestamps the runs stamped themselves differ, masked in both;
- the second execution returns the journaled result, equal to the first: output and its type, messages, usage.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from dbos import DBOS, SetWorkflowID
from durable_core.testing import strategies as ds
from durable_dbos import DBOSAgent, StepConfig
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_ai import Agent, RunContext
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.models.function import FunctionModel

recorder = ds.RunRecorder()
agent = Agent(
    FunctionModel(recorder.model_function, model_name='recorder'), name='input_properties', deps_type=ds.Profile
)


@agent.tool
def inspect(ctx: RunContext[ds.Profile]) -> str:
    recorder.record_tool(ctx)
    return 'ok'


# The tool runs as a step, so its run context is the one the workflow rebuilt from the journal.
dbos_agent = DBOSAgent(agent, tool_step_config=StepConfig())


async def _journaled_input(workflow_id: str) -> str:
    """The workflow's one argument as DBOS stores it: the JSON text `encode_inputs` wrote."""
    [status] = await DBOS.list_workflows_async(workflow_ids=[workflow_id], load_input=True)
    assert status.input is not None
    [journaled] = status.input['args']
    assert isinstance(journaled, str)
    return journaled


def _inputs_of(arguments: dict[str, Any]) -> Any:
    """The run inputs `DBOSAgent.run` builds from `arguments` (what it journals)."""
    return dbos_agent._build_inputs(arguments)  # pyright: ignore[reportPrivateUsage]


async def _run(arguments: dict[str, Any], workflow_id: str | None = None) -> tuple[AgentRunResult[str], ds.RunSeen]:
    """Run with a copy of `arguments` (a run adds its usage to the `usage` it is given): plain, or as the workflow."""
    recorder.start()
    if workflow_id is None:
        result = await agent.run(**copy.deepcopy(arguments))
    else:
        with SetWorkflowID(workflow_id):
            result = await dbos_agent.run(**copy.deepcopy(arguments))
    return result, recorder.masked()


@pytest.mark.filterwarnings('ignore:A `cost_limit` is set but cannot be enforced')
# DBOS's queue thread draws its polling jitter from the `random` module while Hypothesis generates the next example,
# and Hypothesis blames the strategy for the change of random state: none of ours uses `random`.
@pytest.mark.filterwarnings('ignore:Do not use the `random` module inside strategies')
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(arguments=ds.run_arguments(deps=st.none() | ds.profiles()))
async def test_generated_run_arguments_come_back_from_the_journal(dbos: DBOS, arguments: dict[str, Any]) -> None:
    # Ids a plain run would make up at random, and a workflow derives from its own id: given, both runs use them.
    arguments = {**arguments, 'run_id': str(uuid.uuid4())}
    if arguments.get('conversation_id') is None:
        arguments['conversation_id'] = str(uuid.uuid4())
    passed = copy.deepcopy(arguments)
    workflow_id = f'input-properties-{uuid.uuid4()}'

    plain_result, plain = await _run(arguments)
    first, durable = await _run(arguments, workflow_id)

    # What the run saw: the same as the plain run.
    assert durable.requests == plain.requests
    assert durable.tool_contexts == plain.tool_contexts
    [tool_context] = durable.tool_contexts
    assert tool_context['deps'] == passed.get('deps')
    assert type(tool_context['deps']) is type(passed.get('deps'))
    assert first.output == plain_result.output == 'inspected'

    # What DBOS journaled: the inputs built from the arguments, field by field.
    journaled = dbos_agent.decode_inputs(await _journaled_input(workflow_id))
    assert journaled == _inputs_of(passed)
    assert journaled.usage_limits == passed.get('usage_limits')
    assert journaled.message_history == passed.get('message_history')
    decoded_deps = dbos_agent.decode_deps(journaled.deps)
    assert decoded_deps == passed.get('deps')
    assert type(decoded_deps) is type(passed.get('deps'))

    history = passed.get('message_history') or []
    assert first.all_messages()[: len(history)] == history

    # The same workflow id again: the journaled result, not a new run.
    again, rerun = await _run(arguments, workflow_id)
    assert rerun.requests == rerun.tool_contexts == []
    recorded = await (await DBOS.retrieve_workflow_async(workflow_id)).get_result()
    for result in (again, recorded):
        assert isinstance(result, AgentRunResult)
        assert type(result.output) is type(first.output)
        assert result.output == first.output
        assert result.all_messages() == first.all_messages()
        assert result.usage == first.usage
