"""The capability form, `Agent(..., capabilities=[PrefectDurability(...)])`: it runs on a `PrefectAgent`'s units.

A run in the user's flow makes the wrapper's tasks, under the same names, and a retried flow (or a retried parent
of the subflow it runs in) loads their results instead of running them again; outside a flow the agent runs as it
would without the capability; misuse is refused naming the fix.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from durable_core import DurableNameError, DurableUsageError, NotInDurableUnitError
from durable_core.testing import DurableCallCounter, ToolCall
from durable_prefect import PrefectAgent, PrefectDurability, TaskConfig
from prefect import flow, task
from prefect.context import get_run_context
from pydantic_ai import Agent, AgentStreamEvent, RunContext, UserError
from pydantic_ai.capabilities import AbstractCapability, SetToolMetadata
from pydantic_ai.messages import FunctionToolCallEvent, PartStartEvent
from pydantic_ai.models.test import TestModel
from support import CountingModel, read_subflow_runs, read_task_runs

STEPS = [[ToolCall('lookup', {'key': 'a'}), ToolCall('clock', {})], 'done']


def capability_agent(
    tmp_path: Path, name: str, *, capabilities: Sequence[AbstractCapability[None]] = (), **durability: Any
) -> tuple[Agent[None, str], DurableCallCounter]:
    counter = DurableCallCounter(tmp_path / f'{name}.log')
    agent = Agent(
        CountingModel(STEPS, counter),
        name=name,
        capabilities=[*capabilities, PrefectDurability(**durability)],
    )

    @agent.tool_plain  # registered after the agent is created
    def lookup(key: str) -> str:
        counter.record(f'lookup:{key}')
        return f'value of {key}'

    @agent.tool_plain(metadata={'prefect': False})  # 2.68's way to keep a tool in flow code
    def clock() -> str:
        counter.record('clock')
        return 'noon'

    return agent, counter


async def test_a_flow_retry_loads_the_runs_tasks_named_as_the_wrappers(tmp_path: Path) -> None:
    events: list[AgentStreamEvent] = []

    async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
        async for event in stream:
            events.append(event)

    agent, counter = capability_agent(tmp_path, 'capability_retried', event_stream_handler=record)
    attempts: list[str] = []

    @flow(retries=1, retry_delay_seconds=0, persist_result=True)
    async def users_flow() -> tuple[str, str]:
        result = await agent.run('Look it up')
        attempts.append(result.output)
        if len(attempts) == 1:
            raise RuntimeError('the flow fails once, after the agent run')
        return result.output, str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    output, flow_run_id = await users_flow()

    assert output == 'done'
    # Over both attempts: each model request and lookup once; clock (metadata False) runs in flow code each time.
    assert counter.counts() == {'model': 2, 'lookup:a': 1, 'clock': 2}
    runs = await read_task_runs(flow_run_id, count=2 * 7)  # per attempt: 2 requests, lookup, 4 events
    states = sorted((run.name.rsplit('-', 1)[0], run.state_name) for run in runs)
    assert sorted({name for name, _ in states}) == [
        'capability_retried.event_handler',
        'capability_retried.model_request',
        'capability_retried.tool_call.agent.lookup',
    ]
    assert {name for name, _ in states} <= set(agent_units(agent))
    assert (
        sorted(state for name, state in states if name.endswith('model_request')) == ['Cached'] * 2 + ['Completed'] * 2
    )
    assert any(isinstance(event, PartStartEvent) for event in events)  # live, inside the model task
    assert any(isinstance(event, FunctionToolCallEvent) for event in events)


def agent_units(agent: Agent[None, str]) -> list[str]:
    (durability,) = [c for c in agent.root_capability.capabilities if isinstance(c, PrefectDurability)]  # type: ignore[attr-defined]
    return durability.durable_agent.durable_unit_names()


async def test_in_a_subflow_a_retry_of_its_parent_loads_the_runs_tasks(tmp_path: Path) -> None:
    agent, counter = capability_agent(tmp_path, 'capability_subflow')
    attempts: list[str] = []

    @flow(persist_result=True)
    async def inner() -> str:
        output = (await agent.run('Look it up')).output
        attempts.append(output)
        if len(attempts) == 1:
            raise RuntimeError('the subflow fails once, after the agent run')
        return output

    @flow(retries=1, retry_delay_seconds=0, persist_result=True)
    async def outer() -> tuple[str, str]:
        return await inner(), str(get_run_context().flow_run.id)  # type: ignore[union-attr]

    output, flow_run_id = await outer()

    assert output == 'done'
    assert counter.counts() == {'model': 2, 'lookup:a': 1, 'clock': 2}
    # The parent's retry ran the subflow as a new flow run, whose units loaded the first one's results.
    assert sorted(run.state_name for run in await read_subflow_runs(flow_run_id)) == ['Completed', 'Failed']


async def test_set_tool_metadata_gives_a_tool_its_task_config_as_in_2_68(tmp_path: Path) -> None:
    # `clock`'s own metadata keeps it in flow code; the capability's `{'prefect': TaskConfig()}` makes it a task.
    set_metadata = SetToolMetadata[None](tools=['clock'], prefect=TaskConfig(retries=0))
    agent, counter = capability_agent(tmp_path, 'capability_set_metadata', capabilities=[set_metadata])
    attempts: list[str] = []

    @flow(retries=1, retry_delay_seconds=0, persist_result=True)
    async def users_flow() -> str:
        attempts.append((await agent.run('Look it up')).output)
        if len(attempts) == 1:
            raise RuntimeError('the flow fails once, after the agent run')
        return attempts[-1]

    assert await users_flow() == 'done'
    # Over both attempts, clock ran once: the retry loaded its task's result.
    assert counter.counts() == {'model': 2, 'lookup:a': 1, 'clock': 1}
    assert 'capability_set_metadata.tool_call.agent.clock' in agent_units(agent)


async def test_a_set_tool_metadata_selector_function_setting_prefect_is_refused_at_the_first_run(
    tmp_path: Path,
) -> None:
    set_metadata = SetToolMetadata[None](tools=lambda ctx, tool_def: True, prefect=False)
    agent, counter = capability_agent(tmp_path, 'capability_selector', capabilities=[set_metadata])
    with pytest.raises(DurableUsageError, match=r"selector function.*SetToolMetadata\(tools=\['my_tool'\], prefect="):
        await agent.run('Look it up')
    assert counter.counts() == {}


async def test_a_set_tool_metadata_given_for_one_run_in_a_flow_is_refused_before_its_first_task(
    tmp_path: Path,
) -> None:
    agent, counter = capability_agent(tmp_path, 'capability_run_metadata')

    @flow
    async def users_flow() -> str:
        set_metadata = SetToolMetadata[None](tools=['clock'], prefect=TaskConfig())
        return (await agent.run('Look it up', capabilities=[set_metadata])).output

    with pytest.raises(DurableUsageError, match=r"sets 'prefect' was given for one run.*Agent\(\.\.\., capabilities="):
        await users_flow()
    assert counter.counts() == {}


async def test_capabilities_given_for_one_run_in_a_flow_are_refused_before_its_first_task(tmp_path: Path) -> None:
    agent, counter = capability_agent(tmp_path, 'capability_run_capabilities')

    @flow
    async def users_flow() -> str:
        return (await agent.run('Look it up', capabilities=[AbstractCapability[None]()])).output

    with pytest.raises(DurableUsageError, match=r'inside a Prefect flow.*to the `Agent` itself: Agent\(\.\.\., '):
        await users_flow()
    assert counter.counts() == {}


async def test_a_run_inside_a_task_of_a_flow_is_refused_naming_the_flows_code(tmp_path: Path) -> None:
    """Not durable there (the capability was transparent in a task), as the wrapper refuses its `iter()` there."""
    agent, counter = capability_agent(tmp_path, 'capability_in_a_task')

    @task
    async def users_task() -> str:
        return (await agent.run('Look it up')).output

    @flow
    async def users_flow() -> str:
        return await users_task()

    with pytest.raises(NotInDurableUnitError, match=r'inside a task of a Prefect flow.*Use run\(\) or iter\(\) in'):
        await users_flow()
    assert counter.counts() == {}


async def test_outside_a_flow_the_agent_runs_as_without_the_capability(tmp_path: Path) -> None:
    agent, counter = capability_agent(tmp_path, 'capability_plain')
    assert (await agent.run('Look it up')).output == 'done'
    assert (await agent.run('Look it up')).output == 'done'
    assert counter.counts() == {'model': 4, 'lookup:a': 2, 'clock': 2}  # nothing cached: not durable


def test_an_agent_without_a_name_is_refused_when_created() -> None:
    with pytest.raises(UserError, match=r'needs a name.*capabilities=\[PrefectDurability'):
        Agent(TestModel(), capabilities=[PrefectDurability()])


def test_two_durability_capabilities_are_refused_when_the_agent_is_created() -> None:
    with pytest.raises(DurableUsageError, match=r'already has PrefectDurability.*Keep one of them'):
        Agent(TestModel(), name='twice', capabilities=[PrefectDurability(), PrefectDurability()])


def test_wrapping_an_agent_that_has_the_capability_is_refused(tmp_path: Path) -> None:
    agent, _ = capability_agent(tmp_path, 'capability_wrapped')
    with pytest.raises(DurableUsageError, match=r'already has PrefectDurability.*PrefectAgent would journal'):
        PrefectAgent(agent)


async def test_a_wrapper_of_another_agent_may_not_share_its_name(tmp_path: Path) -> None:
    agent, _ = capability_agent(tmp_path, 'capability_named')
    await agent.run('Look it up')  # builds the capability's wrapper, which holds the name
    with pytest.raises(DurableNameError, match=r"already named 'capability_named'"):
        PrefectAgent(Agent(TestModel(), name='capability_named'), model_task_config=TaskConfig(retries=1))


async def test_a_config_for_a_tool_the_agent_lacks_is_refused_before_the_first_task(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    agent = Agent(
        CountingModel(STEPS, counter),
        name='capability_misconfigured',
        capabilities=[PrefectDurability(tool_task_config_by_name={'get_wether': TaskConfig()})],
    )

    @flow
    async def users_flow() -> str:
        return (await agent.run('Hi')).output

    with pytest.raises(DurableUsageError, match=r'get_wether'):
        await users_flow()
    assert counter.counts() == {}
