"""The workflows of temporal_misuse.py: each misuse case that only a workflow can commit, by name.

The workflow sandbox imports this module again for every workflow run, and builds the agents there too.
"""

from __future__ import annotations

from durable_core import StepPolicy
from durable_temporal import PydanticAIWorkflow, TemporalAgent
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
