"""The workflows of temporal_fidelity_capability.py: the capability-form twin of `_temporal_pai_fidelity_workflow.py`.

The same workflows (one run, or two together) with the fidelity agent built with `TemporalDurability` of the
implementation the driver selected (`_temporal_dropin_api`), run by the agent's own `run()`; each returns what the
runs returned, pickled, and appends it to `_temporal.RETURNED` so a `Replayer` shows what the replayed code returned.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from _pai import quiet_deprecations

    quiet_deprecations()
    import fidelity
    from _temporal import RETURNED
    from _temporal_dropin_api import api
    from durable_core.testing import DurableCallCounter
    from temporalio import activity


def record(name: str) -> None:
    DurableCallCounter(f'{RECORD_DIRECTORY[0]}/{activity.info().workflow_id}.log').record(name)


RECORD_DIRECTORY: list[str] = ['.']
"""Set by the driver; read in activities only (in the driver's copy of this module)."""
AGENT = fidelity.build_agent('fidelity_capability', record, capabilities=[api.TemporalDurability()])


def _report(value: Any) -> str:
    text = fidelity.dumps(value)
    RETURNED.append(text)
    return text


async def _run(requester: str) -> Any:
    return await AGENT.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


@workflow.defn
class CapabilityFidelityWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [AGENT]

    @workflow.run
    async def run(self) -> str:
        return _report(fidelity.observe(await _run(fidelity.SINGLE)))


@workflow.defn
class CapabilityFidelityPairWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [AGENT]

    @workflow.run
    async def run(self) -> str:
        results = await asyncio.gather(*(_run(requester) for requester in fidelity.PAIR))
        return _report([fidelity.observe(result) for result in results])
