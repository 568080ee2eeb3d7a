"""Activity configuration: Temporal's `ActivityConfig`, a durable-core `StepPolicy`, or a `LocalActivity`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, TypeAlias

from durable_core import DurableUsageError, StepPolicy
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityConfig, LocalActivityConfig

__all__ = [
    'DEFAULT_ACTIVITY_CONFIG',
    'TEMPORAL_METADATA_KEY',
    'ActivityConfig',
    'ActivityConfigLike',
    'LocalActivity',
    'LocalActivityConfig',
    'LocalOptions',
    'ResolvedConfig',
    'ToolActivityConfig',
    'as_activity_config',
    'merge_configs',
    'resolve_config',
]

TEMPORAL_METADATA_KEY = 'temporal'
"""The tool `metadata` key of a tool's activity config, as 2.68's: an `ActivityConfig` (or ours), or `False`."""


@dataclass(frozen=True)
class LocalActivity:
    """Run a unit as a Temporal *local* activity, in the worker that runs the workflow: opt-in, for short units.

    A local activity skips the task queue: no scheduled/started/completed events and no round trip through the
    server; its result is recorded in the history when the workflow task completes. That is much cheaper for a
    fast tool. The trade-off: if the worker dies after the unit ran but before that workflow task completed, the
    unit runs again on recovery. Use it for short, idempotent units; keep regular activities for model requests
    and for tools with side effects that must not repeat.

    Args:
        config: A Temporal `LocalActivityConfig` or a `StepPolicy`, applied over the unit's inherited config
            (whose keys that local activities do not have, such as `task_queue`, are dropped).
    """

    config: LocalActivityConfig | StepPolicy | None = None


@dataclass(frozen=True)
class LocalOptions:
    """A unit's resolved config when it runs as a local activity."""

    options: LocalActivityConfig


ActivityConfigLike: TypeAlias = ActivityConfig | StepPolicy | LocalActivity
"""Where an `ActivityConfig` is accepted, a durable-core `StepPolicy` or a `LocalActivity` is too."""

ResolvedConfig: TypeAlias = ActivityConfig | LocalOptions
"""A unit's config after inheritance: the options of a regular activity, or of a local one."""

ToolActivityConfig: TypeAlias = ActivityConfigLike | Literal[False]
"""The config of one tool's activity, or `False` to run the (async) tool in workflow code."""

DEFAULT_ACTIVITY_CONFIG: ActivityConfig = {
    'start_to_close_timeout': timedelta(minutes=5),
    'retry_policy': RetryPolicy(maximum_attempts=10),
}
"""The defaults under `activity_config`: one attempt may take 5 minutes; 10 attempts, with Temporal's backoff."""

_KEYS = frozenset(ActivityConfig.__annotations__)
_LOCAL_KEYS = frozenset(LocalActivityConfig.__annotations__)


def as_activity_config(
    config: ActivityConfig | LocalActivityConfig | StepPolicy, *, where: str, keys: frozenset[str] = _KEYS
) -> Any:
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
    kind = 'ActivityConfig' if keys is _KEYS else 'LocalActivityConfig'
    if not isinstance(config, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise DurableUsageError(
            f'{where} must be an {kind} dict, a durable_core.StepPolicy or a durable_temporal.LocalActivity, got '
            f"{type(config).__name__}: for example {{'start_to_close_timeout': timedelta(seconds=60)}}."
        )
    unknown = set(config) - keys
    if unknown:
        raise DurableUsageError(f'{where} has unknown {kind} keys {sorted(unknown)}; the keys are {sorted(keys)}.')
    if 'activity_id' in config:
        raise DurableUsageError(f'{where} must not set activity_id: each activity call gets its own id.')
    return dict(config)  # type: ignore[return-value]


def resolve_config(inherited: ResolvedConfig, override: ActivityConfigLike | None, *, where: str) -> ResolvedConfig:
    """`override` applied over the config a unit inherits (the agent's default, or its toolset's)."""
    if override is None:
        return inherited
    base: dict[str, Any] = dict(inherited.options if isinstance(inherited, LocalOptions) else inherited)
    if isinstance(override, LocalActivity):
        local = {key: value for key, value in base.items() if key in _LOCAL_KEYS}
        if override.config is not None:
            local.update(as_activity_config(override.config, where=f'{where}.config', keys=_LOCAL_KEYS))
        return LocalOptions(local)  # type: ignore[arg-type]
    return merge_configs(base, as_activity_config(override, where=where))  # type: ignore[arg-type]


def merge_configs(*configs: ActivityConfig | None) -> ActivityConfig:
    """Later configs override earlier ones, key by key."""
    merged: dict[str, Any] = {}
    for config in configs:
        if config:
            merged.update(config)
    if not merged.get('start_to_close_timeout') and not merged.get('schedule_to_close_timeout'):
        merged['start_to_close_timeout'] = DEFAULT_ACTIVITY_CONFIG.get('start_to_close_timeout')
    return merged  # type: ignore[return-value]
