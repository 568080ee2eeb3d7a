"""One retry and timeout shape that every engine package translates to its native config."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic_ai import ModelHTTPError, ModelQuotaExceededError, ModelRequestRejectedError, UserError

__all__ = ['StepPolicy', 'is_retryable_error']


@dataclass(frozen=True, kw_only=True)
class StepPolicy:
    """Retries and timeout of one kind of durable unit (model request, tool call, MCP call).

    Each engine package translates it: Temporal to `ActivityConfig` with a `RetryPolicy`, DBOS to step
    options, Prefect to task options. A native config is accepted wherever a `StepPolicy` is.
    """

    retries: int = 0
    """How many times a failed unit is tried again (so `retries + 1` attempts in all)."""

    initial_interval: float = 1.0
    """Seconds to wait before the first retry."""

    backoff_coefficient: float = 2.0
    """Factor by which the wait grows after each retry."""

    maximum_interval: float | None = None
    """Upper bound in seconds on the wait between retries; `None` for no bound."""

    timeout: float | None = None
    """Seconds one attempt may take before it counts as failed; `None` leaves the engine's default."""

    non_retryable_errors: tuple[type[BaseException], ...] = field(default_factory=tuple)
    """Exception types that fail the unit at once. PydanticAI's `UserError` is always among them."""

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f'StepPolicy.retries must be 0 or more, got {self.retries}')
        if self.initial_interval < 0:
            raise ValueError(f'StepPolicy.initial_interval must be 0 or more, got {self.initial_interval}')
        if self.backoff_coefficient < 1:
            raise ValueError(f'StepPolicy.backoff_coefficient must be 1 or more, got {self.backoff_coefficient}')
        if self.maximum_interval is not None and self.maximum_interval < self.initial_interval:
            raise ValueError('StepPolicy.maximum_interval must not be smaller than initial_interval')
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f'StepPolicy.timeout must be positive, got {self.timeout}')

    @property
    def max_attempts(self) -> int:
        """Attempts in all: the first one plus the retries."""
        return self.retries + 1

    def delays(self) -> list[float]:
        """The wait before each retry, in seconds, in order."""
        delays: list[float] = []
        delay = self.initial_interval
        for _ in range(self.retries):
            bounded = delay if self.maximum_interval is None else min(delay, self.maximum_interval)
            delays.append(bounded)
            delay *= self.backoff_coefficient
        return delays


_RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 425, 429})


def is_retryable_error(error: BaseException, non_retryable: tuple[type[BaseException], ...] = ()) -> bool:
    """Whether an engine should retry a unit that raised `error`.

    Misuse (`UserError`) and requests the provider rejected (a 4xx other than timeout, conflict and
    rate limit: bad request, authentication, model not found, context window, quota) fail the same way
    each time, so retrying them only delays the error. Everything else, such as 5xx, 429, timeouts
    and dropped connections, is retried.

    Args:
        error: What the unit raised.
        non_retryable: More exception types that the user configured as non-retryable.
    """
    if isinstance(error, (UserError, ModelRequestRejectedError, ModelQuotaExceededError, *non_retryable)):
        return False
    if isinstance(error, ModelHTTPError):
        status = error.status_code
        return not (400 <= status < 500) or status in _RETRYABLE_CLIENT_STATUSES
    return True
