"""The workflow of temporal_kill_worker.py: the kill trials' 5-step agent run (see `_common.kill_agent`).

The workflow sandbox imports this module again for every workflow run, and builds the agent there too; that copy
does no I/O (every model request and tool call is an activity, run on the worker's own copy), so only the worker's
copy records calls, each into the file `<workflow id>.log` of the directory the worker sets in `RECORDER.directory`.
"""

from __future__ import annotations

from durable_core import StepPolicy
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _common import KILL_PROMPT, kill_agent
    from _temporal import Recorder

RECORDER = Recorder()

# The server retries a killed worker's activity once its attempt times out: a short attempt timeout keeps each
# trial short (a unit takes 0.15 s).
KILL_AGENT = TemporalAgent(
    kill_agent(RECORDER.record),
    activity_config=StepPolicy(retries=9, initial_interval=0.1, backoff_coefficient=1.0, timeout=3),
)


@workflow.defn
class KillWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [KILL_AGENT]

    @workflow.run
    async def run(self) -> str:
        return (await KILL_AGENT.run(KILL_PROMPT)).output
