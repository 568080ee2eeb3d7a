"""A worker whose first import of the `openai` SDK takes 3 s, as on a cold worker under load (test_agent.py).

`python _slow_import_worker.py TARGET TASK_QUEUE`: serves `ModelChoiceWorkflow` and `StringModelWorkflow` until killed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

from _wf_agent import ModelChoiceWorkflow, StringModelWorkflow
from durable_temporal import PydanticAIPlugin
from temporalio.client import Client
from temporalio.worker import Worker

IMPORT_SECONDS = 3.0
"""Longer than the workflow deadlock timer (2 s)."""


class SlowFirstImport(MetaPathFinder):
    """Sleeps before the first import of `openai`, then lets the usual finders import it."""

    def __init__(self) -> None:
        self.slept = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == 'openai' and not self.slept:
            self.slept = True
            print('importing openai slowly', file=sys.stderr, flush=True)
            time.sleep(IMPORT_SECONDS)
        return None


async def main(target: str, task_queue: str) -> None:
    assert 'openai' not in sys.modules, 'the SDK must be imported by the workflow run, not before'
    sys.meta_path.insert(0, SlowFirstImport())
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    async with Worker(client, task_queue=task_queue, workflows=[ModelChoiceWorkflow, StringModelWorkflow]):
        print('worker started', file=sys.stderr, flush=True)
        await asyncio.Event().wait()  # until killed


if __name__ == '__main__':
    asyncio.run(main(sys.argv[1], sys.argv[2]))
