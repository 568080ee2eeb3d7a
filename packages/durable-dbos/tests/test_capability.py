"""The capability form, `Agent(..., capabilities=[DBOSDurability(...)])`: it runs on a `DBOSAgent`'s units.

A run in the app's own workflow journals the same steps, under the same names, as the wrapper's run of a twin agent;
outside workflow code the agent runs as it would without the capability; misuse is refused naming the fix.
"""

from __future__ import annotations

import asyncio
import re
import warnings
from collections.abc import AsyncIterable

import pytest
from _support import step_names
from dbos import DBOS
from durable_core import DurableNameError, DurableUsageError, NotInDurableUnitError
from durable_dbos import CreatedAfterLaunchWarning, DBOSAgent, DBOSDurability, StepConfig
from pydantic_ai import Agent, AgentStreamEvent, RunContext, UserError
from pydantic_ai.capabilities import AbstractCapability, Instrumentation
from pydantic_ai.messages import FunctionToolCallEvent, FunctionToolResultEvent, PartStartEvent
from pydantic_ai.models.test import TestModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.realtime.openai import OpenAIRealtimeModel

events: list[AgentStreamEvent] = []
calls: list[str] = []


async def record(ctx: RunContext[None], stream: AsyncIterable[AgentStreamEvent]) -> None:
    async for event in stream:
        events.append(event)


def lookup(key: str) -> str:
    calls.append(key)
    return f'{key} found'


def clock() -> str:
    return 'noon'


def make_agent(name: str, capabilities: list[DBOSDurability[None]]) -> Agent[None, str]:
    made = Agent(TestModel(), name=name, capabilities=capabilities)
    made.tool_plain(lookup)  # registered after the agent is created, as `@agent.tool_plain` does
    made.tool_plain(clock)
    return made


step_policy = {'tool_step_config': StepConfig(retries=0), 'tool_step_config_by_name': {'clock': None}}
durability = DBOSDurability[None](event_stream_handler=record, **step_policy)
agent = make_agent('capability', [durability])
twin = DBOSAgent(make_agent('capability_twin', []), event_stream_handler=record, **step_policy)


@DBOS.workflow()
async def app_workflow(prompt: str) -> str:
    return (await agent.run(prompt)).output


@DBOS.workflow()
async def two_runs_at_once_workflow(prompt: str) -> list[str]:
    results = await asyncio.gather(agent.run(prompt), agent.run(prompt))
    return [result.output for result in results]


@DBOS.workflow()
async def two_runs_in_turn_workflow(prompt: str) -> list[str]:
    return [(await agent.run(prompt)).output, (await agent.run(prompt)).output]


@pytest.fixture(autouse=True)
def _reset() -> None:
    events.clear()
    calls.clear()


async def test_a_run_in_a_workflow_journals_the_wrappers_steps_under_the_same_names(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(app_workflow, 'Hi')
    output = await handle.get_result()
    capability_steps = await step_names(handle.workflow_id)
    capability_events = [type(event).__name__ for event in events]
    events.clear()

    result = await twin.run('Hi')
    (twin_run,) = [w for w in await DBOS.list_workflows_async(name='capability_twin.run')][-1:]

    assert output == result.output == '{"lookup":"a found","clock":"noon"}'
    assert capability_steps == [
        'capability.model_request',
        'capability.tool_call.agent.lookup',  # its step id reserved before the calls start, as the wrapper's
        'capability.event_handler',
        'capability.event_handler',
        'capability.event_handler',
        'capability.event_handler',
        'capability.model_request',
    ]
    assert [name.replace('capability_twin.', 'capability.') for name in await step_names(twin_run.workflow_id)] == (
        capability_steps
    )
    assert capability_events == [type(event).__name__ for event in events]
    assert set(capability_steps) <= set(durability.durable_agent.durable_unit_names())


def test_the_units_are_the_wrappers_without_its_run_workflow() -> None:
    assert durability.durable_agent.durable_unit_names() == [
        'capability.event_handler',
        'capability.model_cancel',
        'capability.model_request',
        'capability.tool_call.agent.lookup',
    ]
    assert [name.replace('capability_twin.', 'capability.') for name in twin.durable_unit_names()] == [
        *durability.durable_agent.durable_unit_names()[:3],
        'capability.run',
        'capability.tool_call.agent.lookup',
    ]


async def test_outside_a_workflow_the_agent_runs_as_without_the_capability(dbos: DBOS) -> None:
    before = len(await DBOS.list_workflows_async())
    result = await agent.run('Hi')
    assert result.output == '{"lookup":"a found","clock":"noon"}'
    assert calls == ['a']
    assert len(await DBOS.list_workflows_async()) == before  # no workflow, no step
    # The capability's handler gets every event as it comes, model events included.
    assert any(isinstance(event, PartStartEvent) for event in events)
    assert any(isinstance(event, FunctionToolCallEvent) for event in events)
    assert any(isinstance(event, FunctionToolResultEvent) for event in events)


async def test_two_runs_at_once_in_one_workflow_are_refused_naming_a_workflow_each(dbos: DBOS) -> None:
    # They would share the workflow's journal in whatever order their steps start: a recovery could swap their data.
    handle = await DBOS.start_workflow_async(two_runs_at_once_workflow, 'Hi')
    with pytest.raises(DurableUsageError, match=r'under way in the DBOS workflow.*a workflow of its own'):
        await handle.get_result()


async def test_runs_one_after_the_other_in_one_workflow_are_durable(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(two_runs_in_turn_workflow, 'Hi')
    assert await handle.get_result() == ['{"lookup":"a found","clock":"noon"}'] * 2
    assert (await step_names(handle.workflow_id)).count('capability.model_request') == 4


def test_an_agent_without_a_name_is_refused_when_created() -> None:
    with pytest.raises(UserError, match=r"needs a name.*Agent\(\.\.\., name='my_agent', capabilities=\[DBOSDurability"):
        Agent(TestModel(), capabilities=[DBOSDurability()])


def test_two_durability_capabilities_are_refused_when_the_agent_is_created() -> None:
    with pytest.raises(DurableUsageError, match=r'already has DBOSDurability.*Keep one of them'):
        Agent(TestModel(), name='twice', capabilities=[DBOSDurability(), DBOSDurability()])


async def test_the_capability_given_for_one_run_is_refused_before_it_starts() -> None:
    plain = Agent(TestModel(), name='capability_per_run')
    with pytest.raises(UserError, match=r'given for one run.*give it when the agent is created'):
        await plain.run('Hi', capabilities=[DBOSDurability()])
    assert (await plain.run('Hi')).output == 'success (no tool calls)'  # the agent is left as it was
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', CreatedAfterLaunchWarning)  # DBOS may be launched by now: not this test's
        DBOSAgent(plain)  # no durability was attached to it


def test_wrapping_an_agent_that_has_the_capability_is_refused() -> None:
    with pytest.raises(DurableUsageError, match=r'already has DBOSDurability.*DBOSAgent would journal them'):
        DBOSAgent(agent)


def test_the_capability_and_a_wrapper_may_not_share_a_name() -> None:
    with pytest.raises(DurableNameError, match=r"already named 'capability'"):
        DBOSAgent(Agent(TestModel(), name='capability'))


async def test_a_config_for_a_tool_the_agent_lacks_is_refused_before_the_first_step(dbos: DBOS) -> None:
    misconfigured = Agent(
        TestModel(),
        name='misconfigured',
        capabilities=[DBOSDurability(tool_step_config_by_name={'get_wether': StepConfig()})],
    )
    misconfigured.tool_plain(lookup)
    with pytest.raises(DurableUsageError, match=r"get_wether.*\['lookup'\]"):
        await misconfigured.run('Hi')
    assert calls == []


def test_an_error_names_the_capabilitys_own_call_as_the_fix() -> None:
    """Not the wrapper's `DBOSDurability(agent, ...)`, which the capability does not take."""
    fix = 'Agent(..., capabilities=[DBOSDurability(models={"fast": model})])'
    durability = DBOSDurability[None](models={'not a key!': TestModel()})
    Agent(TestModel(), name='bad_model_key', capabilities=[durability])
    with pytest.raises(DurableNameError, match=re.escape(fix)):
        durability.durable_agent  # noqa: B018 - builds the wrapper, as the agent's first run does


class Marker(AbstractCapability[None]):
    """A capability that does nothing: what matters is where it was given."""


class CopiedPerRun(AbstractCapability[None]):
    """An agent's own capability whose runs each get a copy of it, as one with per-run state does."""

    async def for_run(self, ctx: RunContext[None]) -> AbstractCapability[None]:
        return CopiedPerRun()


def marker_for_the_run(ctx: RunContext[None]) -> AbstractCapability[None]:
    return Marker()


kept = Agent(TestModel(), name='kept', capabilities=[CopiedPerRun(), marker_for_the_run, DBOSDurability[None]()])


@DBOS.workflow()
async def run_given_capabilities_workflow(given: str) -> str:
    capabilities = {'marker': [Marker()], 'function': [marker_for_the_run], 'instrumentation': [Instrumentation()]}
    return (await kept.run('Hi', capabilities=capabilities.get(given, []))).output


@DBOS.workflow()
async def realtime_session_workflow() -> None:
    model = OpenAIRealtimeModel('gpt-realtime', provider=OpenAIProvider(api_key='x', base_url='http://127.0.0.1:9'))
    async with kept.realtime(model).session():
        pass


@pytest.mark.parametrize('given', ['marker', 'function'])
async def test_capabilities_given_for_one_run_in_a_workflow_are_refused_before_the_first_step(
    dbos: DBOS, given: str
) -> None:
    handle = await DBOS.start_workflow_async(run_given_capabilities_workflow, given)
    fix = 'Add capabilities to the `Agent` itself: Agent(..., capabilities=['
    with pytest.raises(DurableUsageError, match=r'capabilities= given to run\(\) or iter\(\) inside a DBOS workflow'):
        await handle.get_result()
    with pytest.raises(DurableUsageError, match=re.escape(fix)):
        await handle.get_result()
    assert await step_names(handle.workflow_id) == []
    assert (await kept.run('Hi', capabilities=[Marker()])).output == 'success (no tool calls)'  # outside: as without


@pytest.mark.parametrize('given', ['none', 'instrumentation'])
async def test_the_agents_own_capabilities_and_instrumentation_for_one_run_are_taken(dbos: DBOS, given: str) -> None:
    """The agent's capabilities as its runs resolve them (per-run copies, a capability function's result) pass."""
    handle = await DBOS.start_workflow_async(run_given_capabilities_workflow, given)
    assert await handle.get_result() == 'success (no tool calls)'
    assert await step_names(handle.workflow_id) == ['kept.model_request']


async def test_a_realtime_session_in_a_workflow_is_refused_before_it_connects(dbos: DBOS) -> None:
    handle = await DBOS.start_workflow_async(realtime_session_workflow)
    with pytest.raises(
        NotInDurableUnitError,
        match=r'realtime session is not supported inside a DBOS workflow.*'
        r'DBOSDurability.*Open the session outside the workflow',
    ):
        await handle.get_result()
