"""What the Temporal drivers share: the error a failed workflow run carries from where it was raised."""

from __future__ import annotations

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
