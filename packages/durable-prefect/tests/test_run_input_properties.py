"""Property test: generated run arguments survive the real Prefect server's journal and reach the run unchanged.

Each example runs one agent twice with the same generated arguments (durable-core's shared strategies): as a
durable run (a flow run on the local server) and as a plain PydanticAI run in this process. Then:

- the flow run's parameters, as the server stores them, decode to exactly the arguments passed;
- the model and the tool of the durable run saw exactly what they saw in the plain run (messages, model settings,
  instructions, deps, metadata, usage limits); the only values allowed to differ are the timestamps the two runs stamped
  themselves, which are masked in both.
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID, uuid4

import pytest
from durable_core.testing import strategies as ds
from durable_prefect import PrefectAgent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prefect.context import TaskRunContext
from pydantic_ai import Agent, RunContext
from pydantic_ai.models.function import FunctionModel
from test_run_inputs import stored_arguments

recorder = ds.RunRecorder()
agent = Agent(FunctionModel(recorder.model_function, model_name='recorder'), name='properties', deps_type=ds.Profile)
flow_run_ids: set[UUID] = set()


@agent.tool
def inspect(ctx: RunContext[ds.Profile]) -> str:
    recorder.record_tool(ctx)
    task_run = TaskRunContext.get()
    if task_run is not None and task_run.task_run.flow_run_id is not None:
        flow_run_ids.add(task_run.task_run.flow_run_id)
    return 'ok'


prefect_agent = PrefectAgent(agent)


async def _run(target: Agent[ds.Profile, str] | PrefectAgent[ds.Profile, str], arguments: dict[str, Any]) -> ds.RunSeen:
    recorder.start()
    result = await target.run(**arguments)
    assert result.output == 'inspected'
    return recorder.masked()


@pytest.mark.filterwarnings('ignore:A `cost_limit` is set but cannot be enforced')
# Hypothesis compares the global `random` state around each draw. Prefect's threads in this process may draw from it
# meanwhile (its jittered intervals, `prefect.utilities.math`), so it warned once in a full run. The strategies
# do not use it: the same ones draw without the warning in every suite that has no Prefect.
@pytest.mark.filterwarnings('ignore:Do not use the `random` module inside strategies')
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(arguments=ds.run_arguments(deps=st.none() | ds.profiles()))
async def test_generated_run_arguments_round_trip_through_the_server(arguments: dict[str, Any]) -> None:
    # Ids a plain run would make up at random; a durable run derives its own. Given, both runs use them.
    arguments = {**arguments, 'run_id': str(uuid4())}
    if arguments.get('conversation_id') is None:
        arguments['conversation_id'] = str(uuid4())
    passed = copy.deepcopy(arguments)

    # Each run gets its own copy: a plain run adds its usage to the `usage` it was given, in place.
    plain = await _run(agent, copy.deepcopy(arguments))
    flow_run_ids.clear()
    durable = await _run(prefect_agent, copy.deepcopy(arguments))

    assert durable.requests == plain.requests
    assert durable.tool_contexts == plain.tool_contexts
    assert [context['deps'] for context in durable.tool_contexts] == [passed.get('deps')]
    [flow_run_id] = flow_run_ids
    stored = await stored_arguments(prefect_agent, flow_run_id)
    assert {name: stored[name] for name in passed} == passed
    assert type(stored['deps']) is type(passed.get('deps'))
