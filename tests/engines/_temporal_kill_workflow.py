"""The workflows of temporal_kill_worker.py: the kill trials' 5-step agent run (see `_common.kill_agent`), per form.

The workflow sandbox imports this module again for every workflow run, and builds the agents there too; that copy
does no I/O (every model request and tool call is an activity, run on the worker's own copy), so only the worker's
copy records calls, each into the file `<workflow id>.log` of the directory the worker sets in `RECORDER.directory`.
"""

from __future__ import annotations

from durable_core import StepPolicy
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _common import KILL_PROMPT, kill_agent
    from _temporal import Recorder

RECORDER = Recorder()

# The server retries a killed worker's activity once its attempt times out: a short attempt timeout keeps each
# trial short (a unit takes 0.15 s).
ACTIVITY_CONFIG = StepPolicy(retries=9, initial_interval=0.1, backoff_coefficient=1.0, timeout=3)

KILL_AGENT = TemporalAgent(kill_agent(RECORDER.record), activity_config=ACTIVITY_CONFIG)

# The capability with the wrapper's arguments above. Its agent has the wrapper's agent's name, so both forms'
# activities have the same names: a worker serves one form's workflow only (two agents' activities of one name
# would be refused on one worker).
CAPABILITY_KILL_AGENT = kill_agent(RECORDER.record, capabilities=[TemporalDurability(activity_config=ACTIVITY_CONFIG)])


@workflow.defn
class KillWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [KILL_AGENT]

    @workflow.run
    async def run(self) -> str:
        return (await KILL_AGENT.run(KILL_PROMPT)).output


@workflow.defn
class CapabilityKillWorkflow(PydanticAIWorkflow):
    """The capability form: the agent's own `run()`, durable because it is called in this workflow."""

    __pydantic_ai_agents__ = [CAPABILITY_KILL_AGENT]

    @workflow.run
    async def run(self) -> str:
        return (await CAPABILITY_KILL_AGENT.run(KILL_PROMPT)).output


WORKFLOWS = {'wrapper': KillWorkflow, 'capability': CapabilityKillWorkflow}
"""The workflow a worker of each form serves; the test starts it by name (`KillWorkflow`, `CapabilityKillWorkflow`)."""
