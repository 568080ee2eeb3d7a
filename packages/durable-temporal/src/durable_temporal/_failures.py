"""How our misuse errors cross the Temporal boundary: as a `UserError`, like PydanticAI's own.

durable-core's misuse errors (`DurableUsageError` and its subclasses) subclass PydanticAI's `UserError`. Temporal
names a failure after the exception's class, so they would reach the caller as `ApplicationError(type=
'DurableUsageError')` and code that looks for `type == 'UserError'` in a failed workflow would miss them. Raised in an
activity or in workflow code, they become a non-retryable `ApplicationError` of type `UserError`, with the same
message, our class name as its one detail, and the original error as its cause.
"""

from __future__ import annotations

from typing import Any, NoReturn

from durable_core import DurableUsageError
from temporalio import worker
from temporalio.exceptions import ApplicationError
from temporalio.workflow import NondeterminismError

__all__ = [
    'PAYLOAD_LIMIT_BYTES',
    'IncompatibleDeployError',
    'PayloadTooLargeError',
    'UserErrorInterceptor',
    'raise_as_user_error',
]

USER_ERROR_TYPE = 'UserError'
"""The `ApplicationError` type our misuse errors carry: PydanticAI's `UserError`."""

PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024
"""The largest activity input or result a Temporal server records (its default `limit.blobSize.error`)."""


class PayloadTooLargeError(DurableUsageError):
    """An activity's input is over the server's payload limit: scheduling it would fail the workflow task forever."""


class IncompatibleDeployError(NondeterminismError):
    """A run's history has a model response calling a tool that this version of the agent does not have.

    A deploy removed a tool that a run in flight already called, and this version's worker replays the run. Without
    this error Temporal would stop it a step later, with a `NondeterminismError` naming the tool's activity: the
    history's next activity is the call this version no longer makes. This one names the fix. It is a
    `NondeterminismError` (not a `UserError`, which `PydanticAIPlugin` makes fail the workflow) so that it fails the
    workflow task, which Temporal retries: the run stays open with its history, and once workers of the version that
    started it take it back, they finish it.
    """

    def __init__(self, agent: str | None, workflow_id: str, tools: list[str]) -> None:
        super().__init__(
            f'The workflow {workflow_id!r} ran agent {agent!r} in a version with the tool(s) {tools}, which its model '
            'called, and this version of the agent has no such tool: it cannot replay the run. The run stays open. '
            'To finish it, roll back the workers of its task queue to the version that started it (or route the run '
            "to them with Temporal's worker versioning); keep a tool in the agent until no run that may have called "
            'it is open.'
        )
        self.tools = tools


def raise_as_user_error(error: DurableUsageError) -> NoReturn:
    """Raise `error` as a non-retryable `ApplicationError` of type `UserError`, naming its class in the details.

    Args:
        error: The misuse error, raised in an activity or in workflow code.

    Raises:
        ApplicationError: Always, with `error` as its cause.
    """
    raise ApplicationError(str(error), type(error).__name__, type=USER_ERROR_TYPE, non_retryable=True) from error


class _UserErrorInbound(worker.WorkflowInboundInterceptor):
    async def execute_workflow(self, input: worker.ExecuteWorkflowInput) -> Any:
        try:
            return await super().execute_workflow(input)
        except DurableUsageError as error:
            raise_as_user_error(error)

    async def handle_signal(self, input: worker.HandleSignalInput) -> None:
        try:
            await super().handle_signal(input)
        except DurableUsageError as error:
            raise_as_user_error(error)

    async def handle_update_handler(self, input: worker.HandleUpdateInput) -> Any:
        try:
            return await super().handle_update_handler(input)
        except DurableUsageError as error:
            raise_as_user_error(error)


class UserErrorInterceptor(worker.Interceptor):
    """A worker interceptor that fails a workflow (or update) on our misuse errors as a `UserError`.

    `PydanticAIPlugin` adds it to every worker and replayer it configures.
    """

    def workflow_interceptor_class(
        self, input: worker.WorkflowInterceptorClassInput
    ) -> type[worker.WorkflowInboundInterceptor] | None:
        """Wrap workflow code so that a `DurableUsageError` it raises fails as a `UserError`.

        Args:
            input: Temporal's input (unused).

        Returns:
            The inbound interceptor class.
        """
        return _UserErrorInbound
