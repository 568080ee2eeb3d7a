"""A Temporal worker for the recovery-fidelity suite (`_temporal_fidelity_workflow`), or a replayer of its histories.

Usage: temporal_fidelity.py MODE TARGET TASK_QUEUE DIR [WORKFLOW_ID ...]
MODE `serve`: connect, serve TASK_QUEUE and touch DIR/ready.<pid>, until killed. MODE `standby`: the same once the
file DIR/resume.<pid> exists. MODE `replay`: fetch each WORKFLOW_ID's history, replay it with a `Replayer`, and write
what each replayed workflow returned to DIR/replay.report (pickled, by workflow id). Units record at their source in
DIR/<workflow id>.log.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from _temporal import RETURNED, exit_now
from _temporal_fidelity_workflow import (
    RECORDER,
    CapabilityFidelityPairWorkflow,
    CapabilityFidelityWorkflow,
    FidelityPairWorkflow,
    FidelityWorkflow,
)
from durable_temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Replayer, Worker

WORKFLOWS = [FidelityWorkflow, FidelityPairWorkflow, CapabilityFidelityWorkflow, CapabilityFidelityPairWorkflow]
"""Both forms' workflows: the test starts those of the form it runs (a `Capability` prefix for the capability form)."""


async def replay(client: Client, directory: Path, workflow_ids: list[str]) -> None:
    import fidelity

    replayer = Replayer(workflows=WORKFLOWS, plugins=[PydanticAIPlugin()])
    report: dict[str, object] = {}
    for workflow_id in workflow_ids:
        RETURNED.clear()
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        try:
            await replayer.replay_workflow(history)
            report[workflow_id] = fidelity.loads(RETURNED[-1]) if RETURNED else {'error': 'the replay returned nothing'}
        except Exception as error:  # reported, so the test shows which replay failed and why
            report[workflow_id] = {'error': f'{type(error).__name__}: {error}'}
    (directory / 'replay.report').write_text(fidelity.dumps(report))


async def main(mode: str, target: str, task_queue: str, directory: str, *workflow_ids: str) -> None:
    RECORDER.directory = Path(directory)
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    if mode == 'replay':
        await replay(client, RECORDER.directory, list(workflow_ids))
        return
    resume = RECORDER.directory / f'resume.{os.getpid()}'
    while mode == 'standby' and not resume.exists():
        await asyncio.sleep(0.05)
    # A killed worker's sticky queue holds the workflow's next task until this timeout sends it to the shared queue.
    async with Worker(
        client, task_queue=task_queue, workflows=WORKFLOWS, sticky_queue_schedule_to_start_timeout=timedelta(seconds=1)
    ):
        (RECORDER.directory / f'ready.{os.getpid()}').touch()
        await asyncio.Event().wait()  # until killed


if __name__ == '__main__':
    asyncio.run(main(*sys.argv[1:]))
    exit_now()
