"""Activity configuration: Temporal's `ActivityConfig`, or a durable-core `StepPolicy` translated to one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal, TypeAlias

from durable_core import DurableUsageError, StepPolicy
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig

__all__ = [
    'DEFAULT_ACTIVITY_CONFIG',
    'ActivityConfig',
    'ActivityConfigLike',
    'ToolActivityConfig',
    'as_activity_config',
    'merge_configs',
]

ActivityConfigLike: TypeAlias = ActivityConfig | StepPolicy
"""Where an `ActivityConfig` is accepted, a durable-core `StepPolicy` is too."""

ToolActivityConfig: TypeAlias = ActivityConfigLike | Literal[False]
"""The config of one tool's activity, or `False` to run the (async) tool in workflow code."""

DEFAULT_ACTIVITY_CONFIG: ActivityConfig = {
    'start_to_close_timeout': timedelta(minutes=5),
    'retry_policy': RetryPolicy(maximum_attempts=10),
}
"""The defaults under `activity_config`: one attempt may take 5 minutes; 10 attempts, with Temporal's backoff."""

_KEYS = frozenset(ActivityConfig.__annotations__)


def as_activity_config(config: ActivityConfigLike, *, where: str) -> ActivityConfig:
    """`config` as a Temporal `ActivityConfig`; a `StepPolicy` sets the retry policy and, if given, the timeout."""
    if isinstance(config, StepPolicy):
        translated: ActivityConfig = {
            'retry_policy': RetryPolicy(
                initial_interval=timedelta(seconds=config.initial_interval),
                backoff_coefficient=config.backoff_coefficient,
                maximum_interval=None
                if config.maximum_interval is None
                else timedelta(seconds=config.maximum_interval),
                maximum_attempts=config.max_attempts,
                non_retryable_error_types=[error.__name__ for error in config.non_retryable_errors] or None,
            )
        }
        if config.timeout is not None:
            translated['start_to_close_timeout'] = timedelta(seconds=config.timeout)
        return translated
    if not isinstance(config, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise DurableUsageError(
            f'{where} must be an ActivityConfig dict or a durable_core.StepPolicy, got {type(config).__name__}: '
            "for example {'start_to_close_timeout': timedelta(seconds=60)}."
        )
    unknown = set(config) - _KEYS
    if unknown:
        raise DurableUsageError(
            f'{where} has unknown ActivityConfig keys {sorted(unknown)}; the keys are {sorted(_KEYS)}.'
        )
    if 'activity_id' in config:
        raise DurableUsageError(f'{where} must not set activity_id: each activity call gets its own id.')
    return dict(config)  # type: ignore[return-value]


def merge_configs(*configs: ActivityConfig | None) -> ActivityConfig:
    """Later configs override earlier ones, key by key."""
    merged: dict[str, Any] = {}
    for config in configs:
        if config:
            merged.update(config)
    if not merged.get('start_to_close_timeout') and not merged.get('schedule_to_close_timeout'):
        merged['start_to_close_timeout'] = DEFAULT_ACTIVITY_CONFIG.get('start_to_close_timeout')
    return merged  # type: ignore[return-value]
