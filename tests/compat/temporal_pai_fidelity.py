"""The recovery-fidelity program on Temporal with an implementation's agent in a form: a plain run, and its replay.

Usage: temporal_pai_fidelity.py IMPLEMENTATION FORM TARGET DIR. IMPLEMENTATION is `pai` (PydanticAI 2.68's
`durable_exec`) or `ours`; FORM is `wrapper` (`TemporalAgent`) or `capability` (`TemporalDurability`). A worker in
this process serves the single run's workflow and the pair's (the implementation's plugin); each runs once, then a
`Replayer` replays its history. Units record into DIR/<workflow id>.log; the report goes to DIR/inprocess.report:
`reference`, `replayed_reference`, `pair_reference`, `pair_replayed_reference`, and with each `<key>:units`, how many
units that path ran, counted at their source.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

import _temporal_dropin_api  # noqa: E402
import fidelity  # noqa: E402
from _temporal import RETURNED, exit_now  # noqa: E402
from durable_core.testing import DurableCallCounter  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.worker import Replayer, Worker  # noqa: E402


async def main(implementation: str, form: str, target: str, directory: Path) -> None:
    _temporal_dropin_api.select(implementation, form)  # before the workflows' module builds its agent
    import _temporal_pai_fidelity_workflow as workflows

    workflows.RECORD_DIRECTORY[0] = str(directory)
    all_workflows = {'': workflows.CompatFidelityWorkflow, 'pair_': workflows.CompatFidelityPairWorkflow}
    plugin = _temporal_dropin_api.api.PydanticAIPlugin
    client = await Client.connect(target, plugins=[plugin()])
    task_queue = f'fidelity-{form}-{implementation}-{uuid.uuid4().hex}'
    report: dict[str, Any] = {}
    ids = {prefix: f'fidelity-{form}-{prefix}ref-{uuid.uuid4().hex[:8]}' for prefix in all_workflows}

    def units() -> int:
        return sum(DurableCallCounter(log).total() for log in directory.glob('*.log'))

    async with Worker(client, task_queue=task_queue, workflows=list(all_workflows.values())):
        for prefix, workflow in all_workflows.items():

            async def run(workflow: Any = workflow, prefix: str = prefix) -> Any:
                return fidelity.loads(
                    await client.execute_workflow(workflow.run, id=ids[prefix], task_queue=task_queue)
                )

            await fidelity.report_path(report, f'{prefix}reference', run, units)
    replayer = Replayer(workflows=list(all_workflows.values()), plugins=[plugin()])
    for prefix in all_workflows:

        async def replay(prefix: str = prefix) -> Any:
            RETURNED.clear()
            await replayer.replay_workflow(await client.get_workflow_handle(ids[prefix]).fetch_history())
            return fidelity.loads(RETURNED[-1])

        await fidelity.report_path(report, f'{prefix}replayed_reference', replay, units)
    (directory / 'inprocess.report').write_text(fidelity.dumps(report))


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])))
    exit_now()
