"""`iter()` inside a user's flow (issue 14, item 15a): the flow's own tasks run the model requests and tool calls.

No subflow is made: the caller drives the graph in its flow code, as with 2.68's `PrefectAgent`. A retried flow
runs the same `iter()` again, and its completed tasks load their stored results instead of running again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from durable_core import NotInDurableUnitError
from durable_prefect import PrefectAgent
from prefect import flow, task
from pydantic_ai import Agent
from pydantic_ai.messages import PartDeltaEvent, PartStartEvent, TextPart, TextPartDelta
from pydantic_ai.models.test import TestModel
from support import read_subflow_runs, read_task_runs, retried_once, weather_agent


async def test_iter_in_a_flow_runs_units_as_the_flows_tasks_and_a_retry_repeats_none(tmp_path: Path) -> None:
    agent, counter = weather_agent(tmp_path, name='iter_retried')
    prefect_agent = PrefectAgent(agent)

    async def body() -> tuple[list[str], str]:
        nodes: list[str] = []
        async with prefect_agent.iter('Weather in Paris and Rome?') as run:
            async for node in run:
                nodes.append(type(node).__name__)
        assert run.result is not None
        return nodes, run.result.output

    attempts, flow_run_id = await retried_once(body)
    assert attempts[0] == attempts[1]
    assert attempts[0][1] == 'Sunny in Paris and Rome.'
    assert attempts[0][0].count('ModelRequestNode') == 3
    # Three model requests and two tool calls, each once over both attempts: the retry loaded them all.
    assert counter.counts() == {'model': 3, 'get_weather:Paris': 1, 'get_weather:Rome': 1}
    # The flow run's own tasks: the first attempt's ran, the retry's loaded their results.
    task_runs = await read_task_runs(flow_run_id, count=10)
    states = sorted((t.name.rsplit('-', 1)[0], t.state_name) for t in task_runs)
    assert states == sorted(
        [('iter_retried.model_request', state) for state in ('Completed', 'Cached') for _ in range(3)]
        + [('iter_retried.tool_call.agent.get_weather', state) for state in ('Completed', 'Cached') for _ in range(2)]
    )
    assert await read_subflow_runs(flow_run_id) == []


async def test_two_iters_in_one_flow_are_two_runs(tmp_path: Path) -> None:
    agent, counter = weather_agent(tmp_path, name='iter_twice', steps=['answer'])
    prefect_agent = PrefectAgent(agent)

    @flow
    async def outer() -> list[Any]:
        outputs: list[Any] = []
        for prompt in ('one', 'two'):
            async with prefect_agent.iter(prompt) as run:
                async for _ in run:
                    pass
            assert run.result is not None
            outputs.append((run.result.output, run.result.run_id))
        return outputs

    (first, first_id), (second, second_id) = await outer()
    assert (first, second) == ('answer', 'answer')
    # Two runs: the second's request ran, not read back from the first's stored one (their cache keys differ by run).
    assert first_id != second_id
    assert counter.counts() == {'model': 2}


async def test_node_stream_in_a_flow_yields_the_responses_events() -> None:
    prefect_agent = PrefectAgent(Agent(TestModel(custom_output_text='streamed text'), name='iter_node_stream'))

    @flow
    async def outer() -> list[Any]:
        events: list[Any] = []
        async with prefect_agent.iter('hi') as run:
            async for node in run:
                if Agent.is_model_request_node(node):
                    async with node.stream(run.ctx) as stream:
                        events.extend([event async for event in stream])
        return events

    events = await outer()
    text = ''.join(
        event.part.content if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart) else ''
        for event in events
    ) + ''.join(
        event.delta.content_delta
        if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta)
        else ''
        for event in events
    )
    assert text == 'streamed text'


async def test_iter_inside_a_task_is_refused_naming_run() -> None:
    prefect_agent = PrefectAgent(Agent(TestModel(), name='iter_in_task'))

    @task
    async def in_a_task() -> None:
        async with prefect_agent.iter('hi'):
            pass

    @flow
    async def outer() -> None:
        await in_a_task()

    with pytest.raises(NotInDurableUnitError, match=r'Use run\(\)'):
        await outer()
