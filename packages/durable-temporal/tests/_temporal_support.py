"""Shared fixtures and helpers of durable-temporal's tests (import the fixtures into a test module to use them).

``plugin_client``: a client of the session's dev server with ``PydanticAIPlugin`` attached.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest_asyncio
from durable_core.testing import PreloadedProcess, PreloadedPython, TemporalDevServer
from durable_temporal import PydanticAIPlugin
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHandle


@pytest_asyncio.fixture(name='plugin_client', scope='session', loop_scope='session')
async def plugin_client_fixture(temporal_dev_server: TemporalDevServer) -> Client:
    return await Client.connect(temporal_dev_server.target, namespace='default', plugins=[PydanticAIPlugin()])


async def history_events(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    history = await handle.fetch_history()
    return list(history.events)


async def activity_types(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The activity types the workflow scheduled, in order."""
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in await history_events(handle)
        if event.HasField('activity_task_scheduled_event_attributes')
    ]


async def activity_inputs(handle: WorkflowHandle[Any, Any]) -> list[tuple[str, list[Any]]]:
    """Each scheduled activity's type and its inputs, each parsed from its payload's JSON."""
    found: list[tuple[str, list[Any]]] = []
    for event in await history_events(handle):
        if event.HasField('activity_task_scheduled_event_attributes'):
            attributes = event.activity_task_scheduled_event_attributes
            payloads: Sequence[Any] = attributes.input.payloads
            found.append((attributes.activity_type.name, [json.loads(payload.data) for payload in payloads]))
    return found


async def history_size(handle: WorkflowHandle[Any, Any]) -> int:
    """The workflow's history, in bytes, as the server stores it (protobuf)."""
    return sum(event.ByteSize() for event in await history_events(handle))


class WorkerProcesses:
    """Worker subprocesses running a script of this folder, each killed (if alive) at the end of the test."""

    def __init__(self, script: str, *args: str) -> None:
        self.script = Path(__file__).parent / script
        self.args = list(args)
        self.processes: list[PreloadedProcess] = []

    def start(self, *flags: str, env: Mapping[str, str] | None = None) -> PreloadedProcess:
        here = str(self.script.parent)
        environment = {
            **os.environ,
            **(env or {}),
            'PYTHONPATH': os.pathsep.join([here, os.environ.get('PYTHONPATH', '')]),
        }
        process = PreloadedPython.shared().popen(
            [sys.executable, str(self.script), *self.args, *flags], env=environment
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
