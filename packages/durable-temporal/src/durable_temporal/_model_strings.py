"""Model strings built into models in workflow code, their provider's SDK imported first, outside the workflow.

PydanticAI builds a model from a string in the run: a run's `model='openai:...'`, and in the capability form the
agent's own `Agent('openai:...')`, which it keeps as a string until the run.

Building the model imports the provider's SDK the first time a worker process sees the provider: seconds on a cold
worker under load. In workflow code that import runs under the SDK's deadlock timer (2 s); past it, the SDK abandons
the activation and interrupts its thread, which can leave the SDK's modules half imported for the whole process
(`AttributeError: module 'openai.types.responses' has no attribute ...` in every later run).

So the first build of each model string runs on a thread of the worker's own, outside the workflow; the workflow
waits for it a little. If it is not done by then, the workflow task fails with `ProviderStillImporting`, and Temporal
retries the task: the import goes on undisturbed, and the retried task builds the model at once. The workflow's own
code is the same on every attempt, so replay is unaffected.
"""

from __future__ import annotations

import contextlib
import threading

from pydantic_ai.models import infer_model
from temporalio import workflow

__all__ = ['ProviderStillImporting', 'prepare_model_string', 'start_first_build']

WAIT_SECONDS = 1.0
"""How long an activation waits for the first build of a model string: well under the deadlock timer (2 s)."""

_FIRST_BUILDS: dict[str, threading.Thread] = {}
_FIRST_BUILDS_LOCK = threading.Lock()


class ProviderStillImporting(RuntimeError):
    """The workflow task that needs a model string's provider SDK while it is still being imported; it is retried."""


def _first_build(model_id: str) -> None:
    # A failure (a missing SDK, say) is raised again by the workflow's own build, where the run reports it.
    with contextlib.suppress(Exception):
        infer_model(model_id)


def start_first_build(model_id: str) -> threading.Thread:
    """The thread of the first build of `model_id` in this process, started if it was not."""
    with _FIRST_BUILDS_LOCK:
        build = _FIRST_BUILDS.get(model_id)
        if build is None:
            build = _FIRST_BUILDS[model_id] = threading.Thread(
                target=_first_build, args=(model_id,), name=f'durable-temporal import for {model_id}', daemon=True
            )
            build.start()
        return build


def prepare_model_string(model_id: str) -> None:
    """In workflow code, return once the first build of `model_id` (and its SDK import) is done elsewhere."""
    if not workflow.in_workflow():
        return
    with workflow.unsafe.sandbox_unrestricted():
        build = start_first_build(model_id)
        build.join(WAIT_SECONDS)
        if build.is_alive():
            raise ProviderStillImporting(
                f'The provider SDK of the model {model_id!r} is still being imported on this worker; this workflow '
                'task is retried once it is. Register the model with the agent (models={...}) to import it when the '
                'worker starts.'
            )
