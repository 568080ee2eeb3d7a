"""The workflows of temporal_pai_fidelity.py: the recovery-fidelity program with PydanticAI 2.68's `TemporalAgent`.

The same workflows as `engines/_temporal_fidelity_workflow.py` (one run, or two together), returning what the runs
returned, pickled, and appending it to `_temporal.RETURNED` so a `Replayer` shows what the replayed code returned.
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
    from durable_core.testing import DurableCallCounter
    from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow, TemporalAgent
    from temporalio import activity


def record(name: str) -> None:
    DurableCallCounter(f'{RECORD_DIRECTORY[0]}/{activity.info().workflow_id}.log').record(name)


RECORD_DIRECTORY: list[str] = ['.']
"""Set by the driver; read in activities only (in the driver's copy of this module)."""
PAI_AGENT = TemporalAgent(fidelity.build_agent('fidelity_pai', record))


def _report(value: Any) -> str:
    text = fidelity.dumps(value)
    RETURNED.append(text)
    return text


async def _run(requester: str) -> Any:
    return await PAI_AGENT.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


@workflow.defn
class PaiFidelityWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [PAI_AGENT]

    @workflow.run
    async def run(self) -> str:
        return _report(fidelity.observe(await _run(fidelity.SINGLE)))


@workflow.defn
class PaiFidelityPairWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [PAI_AGENT]

    @workflow.run
    async def run(self) -> str:
        results = await asyncio.gather(*(_run(requester) for requester in fidelity.PAIR))
        return _report([fidelity.observe(result) for result in results])
