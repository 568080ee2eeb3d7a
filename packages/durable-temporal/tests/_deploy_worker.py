"""A worker process for test_deploy.py: `python _deploy_worker.py TARGET TASK_QUEUE` (version from the environment)."""

from __future__ import annotations

import asyncio
import sys

from _wf_deploy import DeployWorkflow, _record
from durable_temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker


async def main(target: str, task_queue: str) -> None:
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    async with Worker(client, task_queue=task_queue, workflows=[DeployWorkflow]):
        _record('worker_started')
        await asyncio.Event().wait()  # until killed


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2]))
