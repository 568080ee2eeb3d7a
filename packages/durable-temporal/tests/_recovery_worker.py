"""A worker process for test_recovery.py: `python _recovery_worker.py TARGET TASK_QUEUE COUNTER_FILE [--block]`."""

from __future__ import annotations

import asyncio
import sys

from _wf_recovery import SETTINGS, CapabilityRecoveryWorkflow, RecoveryWorkflow
from durable_core.testing import DurableCallCounter
from durable_temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker


async def main(target: str, task_queue: str, counter_file: str, block: bool) -> None:
    SETTINGS.counter = DurableCallCounter(counter_file)
    SETTINGS.block = block
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    async with Worker(client, task_queue=task_queue, workflows=[RecoveryWorkflow, CapabilityRecoveryWorkflow]):
        SETTINGS.counter.record('worker_started')
        await asyncio.Event().wait()  # until killed


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], '--block' in sys.argv[4:]))
