"""The workflows of temporal_pai_fidelity.py: the recovery-fidelity program with an implementation's agent, in a form.

The same workflows as `engines/_temporal_fidelity_workflow.py` (one run, or two together), with the fidelity agent of
the implementation and form the driver selected (`_temporal_dropin_api`): a `TemporalAgent`, or an agent with
`TemporalDurability` run by its own `run()`. Each returns what the runs returned, pickled, and appends it to
`_temporal.RETURNED` so a `Replayer` shows what the replayed code returned.
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
    from _temporal_dropin_api import api, capabilities, durable, form
    from durable_core.testing import DurableCallCounter
    from temporalio import activity


def record(name: str) -> None:
    DurableCallCounter(f'{RECORD_DIRECTORY[0]}/{activity.info().workflow_id}.log').record(name)


RECORD_DIRECTORY: list[str] = ['.']
"""Set by the driver; read in activities only (in the driver's copy of this module)."""
AGENT = durable(fidelity.build_agent(f'fidelity_{form}', record, capabilities=capabilities()))


def _report(value: Any) -> str:
    text = fidelity.dumps(value)
    RETURNED.append(text)
    return text


async def _run(requester: str) -> Any:
    return await AGENT.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


@workflow.defn
class CompatFidelityWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [AGENT]

    @workflow.run
    async def run(self) -> str:
        return _report(fidelity.observe(await _run(fidelity.SINGLE)))


@workflow.defn
class CompatFidelityPairWorkflow(api.PydanticAIWorkflow):
    __pydantic_ai_agents__ = [AGENT]

    @workflow.run
    async def run(self) -> str:
        results = await asyncio.gather(*(_run(requester) for requester in fidelity.PAIR))
        return _report([fidelity.observe(result) for result in results])
