"""What the Temporal drivers share: the error a failed workflow run carries, how a driver process ends, and the
recorder that counts a workflow's units at their source."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from durable_core.testing import DurableCallCounter
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError


def raised_error(failure: WorkflowFailureError) -> BaseException:
    """The error raised in the workflow or in its activity: the first `ApplicationError` in the failure's causes.

    Temporal carries it as an `ApplicationError` whose `type` is the original class name and whose message is the
    original message (an activity's error comes wrapped in an `ActivityError`).
    """
    cause: BaseException | None = failure
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = getattr(cause, 'cause', None)
    return cause or failure


def original_type(error: BaseException) -> str:
    """The class name of an error as it was raised, read from a carried `ApplicationError`'s `type`."""
    if isinstance(error, ApplicationError) and error.type:
        return error.type
    return type(error).__name__


def exit_now() -> None:
    """End the driver process once its report is written, skipping interpreter teardown.

    The Temporal client's Rust threads can outlive the event loop, and then crash the interpreter while it finalizes
    ("Fatal Python error: PyGILState_Release: thread state ... must be current when releasing", SIGABRT; open
    upstream as temporalio/sdk-python#300). Seen here once in a full cross-engine run, after the report was written.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


RETURNED: list[str] = []
"""What workflow code returned, appended by workflows that want it seen (passed through the sandbox, so a `Replayer`
in this process shows what the replayed code returned)."""


@dataclass
class Recorder:
    """Counts units at their source, in activities, each into the file `<workflow id>.log` of `directory`.

    A workflow module builds its agent with `RECORDER.record` (the sandbox's copy of the module never runs a unit), and
    the worker process sets `RECORDER.directory`.
    """

    directory: Path | None = None

    def record(self, name: str) -> None:
        assert self.directory is not None, 'the worker sets RECORDER.directory'
        DurableCallCounter(self.directory / f'{activity.info().workflow_id}.log').record(name)
