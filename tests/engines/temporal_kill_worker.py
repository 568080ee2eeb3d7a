"""A Temporal worker for the kill trials: it serves the 5-step run's workflow (`_temporal_kill_workflow`).

Usage: temporal_kill_worker.py FORM MODE TARGET TASK_QUEUE DIR
FORM `wrapper`: the workflow runs a `TemporalAgent`. FORM `capability`: the workflow calls the `run()` of an agent
built with `TemporalDurability` (the wrapper's arguments). A worker serves its form's workflow only.
MODE `serve`: connect, serve TASK_QUEUE and touch DIR/ready.<pid>, until killed. MODE `standby`: connect, wait for
the file DIR/resume.<pid>, then serve (the test starts it ahead of need, so its imports overlap a run). The test
starts the workflows and reads their history through its own client. Each unit records `start:<unit>:<pid>` at its
source before it works, in DIR/<workflow id>.log.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from _capability import parse_form
from _temporal_kill_workflow import RECORDER, WORKFLOWS
from durable_temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker


async def main(form: str, mode: str, target: str, task_queue: str, directory: str) -> None:
    RECORDER.directory = Path(directory)
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    resume = RECORDER.directory / f'resume.{os.getpid()}'
    while mode == 'standby' and not resume.exists():
        await asyncio.sleep(0.05)
    # A killed worker's sticky queue holds the workflow's next task until this timeout sends it to the shared queue.
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[WORKFLOWS[parse_form(form)]],
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
    ):
        (RECORDER.directory / f'ready.{os.getpid()}').touch()
        await asyncio.Event().wait()  # until killed


if __name__ == '__main__':
    asyncio.run(main(*sys.argv[1:6]))
