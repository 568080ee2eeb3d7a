"""The recovery-fidelity program on Temporal with PydanticAI 2.68's `TemporalAgent`: a plain run, and its replay.

Usage: temporal_pai_fidelity.py TARGET DIR. A worker in this process serves the single run's workflow and the pair's
(2.68's plugin); each runs once, then a `Replayer` replays its history. Units record into DIR/<workflow id>.log; the
report goes to DIR/inprocess.report: `reference`, `replayed_reference`, `pair_reference`, `pair_replayed_reference`.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

import fidelity  # noqa: E402
from _temporal import RETURNED, exit_now  # noqa: E402
from _temporal_pai_fidelity_workflow import (  # noqa: E402
    RECORD_DIRECTORY,
    PaiFidelityPairWorkflow,
    PaiFidelityWorkflow,
)
from pydantic_ai.durable_exec.temporal import PydanticAIPlugin  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.worker import Replayer, Worker  # noqa: E402

WORKFLOWS = {'': PaiFidelityWorkflow, 'pair_': PaiFidelityPairWorkflow}


async def main(target: str, directory: Path) -> None:
    RECORD_DIRECTORY[0] = str(directory)
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    task_queue = f'fidelity-pai-{uuid.uuid4().hex}'
    report: dict[str, Any] = {}
    ids = {prefix: f'fidelity-pai-{prefix}ref-{uuid.uuid4().hex[:8]}' for prefix in WORKFLOWS}
    async with Worker(client, task_queue=task_queue, workflows=list(WORKFLOWS.values())):
        for prefix, workflow in WORKFLOWS.items():

            async def run(workflow: Any = workflow, prefix: str = prefix) -> Any:
                return fidelity.loads(
                    await client.execute_workflow(workflow.run, id=ids[prefix], task_queue=task_queue)
                )

            await fidelity.report_path(report, f'{prefix}reference', run, lambda: 0)
    replayer = Replayer(workflows=list(WORKFLOWS.values()), plugins=[PydanticAIPlugin()])
    for prefix in WORKFLOWS:

        async def replay(prefix: str = prefix) -> Any:
            RETURNED.clear()
            await replayer.replay_workflow(await client.get_workflow_handle(ids[prefix]).fetch_history())
            return fidelity.loads(RETURNED[-1])

        await fidelity.report_path(report, f'{prefix}replayed_reference', replay, lambda: 0)
    (directory / 'inprocess.report').write_text(fidelity.dumps(report))


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
    exit_now()
