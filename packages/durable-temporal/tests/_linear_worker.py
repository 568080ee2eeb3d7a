"""A worker process for test_linear_history.py: `python _linear_worker.py TARGET QUEUE COUNTER_FILE [--block-at N]`.

Besides the agent's own records, it records `asked:<count>` each time a model request's earlier messages are not
in this process's cache and it reads them from the workflow's history, and `rebuilt:<count>` when it has them:
test instrumentation, wrapped around `_history`.
"""

from __future__ import annotations

import asyncio
import sys

from _wf_linear import (
    SETTINGS,
    AutoContinuedLongRunWorkflow,
    LongRunWorkflow,
    ProcessedHistoryWorkflow,
    ThousandStepWorkflow,
    record,
)
from durable_core.testing import DurableCallCounter
from durable_temporal import PydanticAIPlugin, _history
from pydantic_ai.messages import ModelMessage
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

_read_history = _history._read_history  # pyright: ignore[reportPrivateUsage]


async def _recording_read_history(
    info: activity.Info, earlier: _history.EarlierMessages
) -> tuple[list[ModelMessage], list[str], list[bytes]]:
    record(f'asked:{earlier.count}')
    rebuilt = await _read_history(info, earlier)
    record(f'rebuilt:{earlier.count}')
    return rebuilt


async def main(target: str, task_queue: str, counter_file: str, block_at: int | None) -> None:
    SETTINGS.counter = DurableCallCounter(counter_file)
    SETTINGS.block_at = block_at
    _history._read_history = _recording_read_history  # pyright: ignore[reportPrivateUsage]
    client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[LongRunWorkflow, ProcessedHistoryWorkflow, AutoContinuedLongRunWorkflow, ThousandStepWorkflow],
    ):
        record('worker_started')
        await asyncio.Event().wait()  # until killed


if __name__ == '__main__':
    flags = sys.argv[4:]
    block = int(flags[flags.index('--block-at') + 1]) if '--block-at' in flags else None
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], block))
