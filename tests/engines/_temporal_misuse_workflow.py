"""The workflows of temporal_misuse.py: each misuse case that only a workflow can commit, by name.

The workflow sandbox imports this module again for every workflow run, and builds the agents there too.
"""

from __future__ import annotations

from durable_core import StepPolicy
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _misuse import NO_DEPS, RUN_TIME_CASES, Handle, misuse_entry_point, run_time_kwargs

ENTRY_POINTS = ['run_sync', 'run_stream', 'run_stream_events', 'override', 'realtime']
MISUSE_AGENT = TemporalAgent(Agent(TestModel(), name='misuse_table', deps_type=Handle))
# Its output is larger than the dev server's 2 MB payload limit. A few quick attempts, not the default ten, so that a
# retry of what must fail again shows without a long wait.
OVERSIZE_AGENT = TemporalAgent(
    Agent(TestModel(custom_output_text='x' * 3_000_000), name='misuse_oversize'),
    activity_config=StepPolicy(retries=2, initial_interval=0.1, backoff_coefficient=1.0, timeout=30),
)


@workflow.defn
class MisuseWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [MISUSE_AGENT, OVERSIZE_AGENT]

    @workflow.run
    async def run(self, case: str) -> str:
        if case in RUN_TIME_CASES:
            await MISUSE_AGENT.run('Hi', **run_time_kwargs(case))
        elif case in ENTRY_POINTS:
            await misuse_entry_point(MISUSE_AGENT, case)
        elif case == 'oversize':
            return (await OVERSIZE_AGENT.run('Hi')).output[:10]
        elif case == 'control':
            return (await MISUSE_AGENT.run('Hi', deps=NO_DEPS)).output
        return 'no error'


@workflow.defn
class TwinsWorkflow(PydanticAIWorkflow):
    """Lists two different agents with one name, so their activities' names clash."""

    __pydantic_ai_agents__ = [MISUSE_AGENT, TemporalAgent(Agent(TestModel(), name='misuse_table'))]

    @workflow.run
    async def run(self) -> None:
        pass


# The capability form: a plain agent with `TemporalDurability`, run by its own `run()` in the workflow.
CAPABILITY_AGENT = Agent(TestModel(), name='misuse_capability', deps_type=Handle, capabilities=[TemporalDurability()])
PLAIN_AGENT = Agent(TestModel(), name='misuse_plain')
UNREGISTERED_AGENT = Agent(TestModel(), name='misuse_unregistered', capabilities=[TemporalDurability()])


@workflow.defn
class CapabilityMisuseWorkflow(PydanticAIWorkflow):
    """The capability form of `MisuseWorkflow`'s cases, and its own misuse."""

    __pydantic_ai_agents__ = [CAPABILITY_AGENT]

    @workflow.run
    async def run(self, case: str) -> str:
        if case in RUN_TIME_CASES:
            await CAPABILITY_AGENT.run('Hi', **run_time_kwargs(case))
        elif case in [*ENTRY_POINTS, 'override and run', 'realtime session']:
            await misuse_entry_point(CAPABILITY_AGENT, case)
        elif case == 'capability for one run':
            await PLAIN_AGENT.run('Hi', capabilities=[TemporalDurability()])
        elif case == 'control':
            return (await CAPABILITY_AGENT.run('Hi', deps=NO_DEPS)).output
        return 'no error'


@workflow.defn
class CapabilityTwinsWorkflow(PydanticAIWorkflow):
    """Lists two different capability agents with one name, so their activities' names clash."""

    __pydantic_ai_agents__ = [
        CAPABILITY_AGENT,
        Agent(TestModel(), name='misuse_capability', capabilities=[TemporalDurability()]),
    ]

    @workflow.run
    async def run(self) -> None:
        pass


@workflow.defn
class UnregisteredCapabilityWorkflow:
    """Runs a capability agent that its worker did not register (it is listed nowhere)."""

    @workflow.run
    async def run(self) -> str:
        return (await UNREGISTERED_AGENT.run('Hi')).output
