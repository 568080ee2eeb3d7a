"""The workflows of temporal_fidelity.py: the recovery-fidelity program (`fidelity.py`), one run or two together.

Each in both forms: `FidelityWorkflow` runs a `TemporalAgent`; `CapabilityFidelityWorkflow` runs an agent built with
`TemporalDurability` (the wrapper's arguments) through its own `agent.run()`.

Each workflow returns what its runs returned, pickled (`fidelity.observe`, `fidelity.dumps`), and also appends it
to `_temporal.RETURNED`, so a `Replayer` shows what the replayed workflow code returned. The worker's copy of the
agent records units (in activities) into `<workflow id>.log`; a Porto tool call waits while the file `hold` exists
in the worker's directory, so the test can kill the worker there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from durable_core import StepPolicy
from durable_temporal import PydanticAIWorkflow, TemporalAgent, TemporalDurability
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import _common  # noqa: F401  (puts tests/ on sys.path)
    import fidelity
    from _temporal import RETURNED, Recorder

RECORDER = Recorder()


async def hold(city: str) -> None:
    while city == fidelity.HELD_CITY and RECORDER.directory is not None and (RECORDER.directory / 'hold').exists():
        await asyncio.sleep(0.05)


# A killed worker's activity is retried once its attempt times out: 10 s, far longer than any unit here takes (the held
# call is killed well within it), so the only retry is the one the kill causes.
ACTIVITY_CONFIG = StepPolicy(retries=9, initial_interval=0.1, backoff_coefficient=1.0, timeout=10)
FIDELITY_AGENT = TemporalAgent(fidelity.build_agent('fidelity', RECORDER.record, hold), activity_config=ACTIVITY_CONFIG)
CAPABILITY_FIDELITY_AGENT = fidelity.build_agent(
    'fidelity_capability', RECORDER.record, hold, [TemporalDurability(activity_config=ACTIVITY_CONFIG)]
)


def _report(value: Any) -> str:
    text = fidelity.dumps(value)
    RETURNED.append(text)
    return text


async def _run(requester: str) -> Any:
    return await FIDELITY_AGENT.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


async def _run_capability(requester: str) -> Any:
    return await CAPABILITY_FIDELITY_AGENT.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


@workflow.defn
class FidelityWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [FIDELITY_AGENT]

    @workflow.run
    async def run(self) -> str:
        return _report(fidelity.observe(await _run(fidelity.SINGLE)))


@workflow.defn
class FidelityPairWorkflow(PydanticAIWorkflow):
    """Two runs of the agent started together (deps R1 and R2); the model gives both the same tool-call ids."""

    __pydantic_ai_agents__ = [FIDELITY_AGENT]

    @workflow.run
    async def run(self) -> str:
        results = await asyncio.gather(*(_run(requester) for requester in fidelity.PAIR))
        return _report([fidelity.observe(result) for result in results])


@workflow.defn
class CapabilityFidelityWorkflow(PydanticAIWorkflow):
    """The capability form: the agent's own `run()`, durable because it is called in this workflow."""

    __pydantic_ai_agents__ = [CAPABILITY_FIDELITY_AGENT]

    @workflow.run
    async def run(self) -> str:
        return _report(fidelity.observe(await _run_capability(fidelity.SINGLE)))


@workflow.defn
class CapabilityFidelityPairWorkflow(PydanticAIWorkflow):
    """The capability form's two runs started together (deps R1 and R2)."""

    __pydantic_ai_agents__ = [CAPABILITY_FIDELITY_AGENT]

    @workflow.run
    async def run(self) -> str:
        results = await asyncio.gather(*(_run_capability(requester) for requester in fidelity.PAIR))
        return _report([fidelity.observe(result) for result in results])
