"""`StepConfig`, and its translation (or a durable-core `StepPolicy`'s) into DBOS step options."""

from __future__ import annotations

from typing import Any, TypedDict

from durable_core import DurableUsageError, StepPolicy, is_retryable_error

__all__ = ['StepConfig', 'StepConfigLike', 'step_options']


class StepConfig(TypedDict, total=False):
    """Retries and timeout of DBOS steps: the options of `@DBOS.step`, with `retries` for short."""

    retries: int
    """How many times a failed step is tried again; sets `retries_allowed` and `max_attempts = retries + 1`."""

    retries_allowed: bool
    """Whether a failed step is retried at all (DBOS's own name; `retries` implies it)."""

    interval_seconds: float
    """Seconds before the first retry."""

    max_attempts: int
    """Attempts in all, the first one included (overrides `retries`)."""

    backoff_rate: float
    """Factor by which the wait grows after each retry."""

    timeout_seconds: float
    """Seconds one attempt may take before DBOS cancels it and raises `DBOSStepTimeoutError`."""


StepConfigLike = StepConfig | StepPolicy
"""Where a `StepConfig` is accepted, a durable-core `StepPolicy` is too."""

_STEP_CONFIG_KEYS = frozenset(StepConfig.__annotations__)


def step_options(name: str, config: StepConfigLike | None) -> dict[str, Any]:
    """The `DBOS.run_step_async` options of a step named `name`.

    Errors that would fail the same way each time are not retried (durable-core's `is_retryable_error`):
    PydanticAI's `UserError`, requests the provider rejected, and a policy's `non_retryable_errors`.
    """
    non_retryable: tuple[type[BaseException], ...] = ()
    options: dict[str, Any] = {'name': name}
    if isinstance(config, StepPolicy):
        options.update(
            retries_allowed=config.retries > 0,
            max_attempts=config.max_attempts,
            interval_seconds=config.initial_interval,
            backoff_rate=config.backoff_coefficient,
        )
        if config.timeout is not None:
            options['timeout_seconds'] = config.timeout
        non_retryable += config.non_retryable_errors
    elif config:
        unknown = set(config) - _STEP_CONFIG_KEYS
        if unknown:
            raise DurableUsageError(
                f'Unknown StepConfig keys {sorted(unknown)}; the keys are {sorted(_STEP_CONFIG_KEYS)}.'
            )
        settings: dict[str, Any] = dict(config)
        retries: int | None = settings.pop('retries', None)
        if retries is not None:
            options.update(retries_allowed=retries > 0, max_attempts=retries + 1)
        options.update(settings)

    def should_retry(error: BaseException) -> bool:
        return is_retryable_error(error, non_retryable)

    options['should_retry'] = should_retry
    return options
