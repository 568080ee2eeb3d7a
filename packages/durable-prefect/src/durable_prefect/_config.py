"""`TaskConfig`, and its translation (or a durable-core `StepPolicy`'s) into Prefect task options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from durable_core import DurableUsageError, StepPolicy, is_retryable_error
from prefect.cache_policies import CachePolicy
from prefect.client.schemas.objects import State, TaskRun
from prefect.filesystems import WritableFileSystem
from prefect.tasks import Task

from ._cache import DEFAULT_CACHE_POLICY

__all__ = ['TaskConfig', 'TaskConfigLike', 'task_options']


class TaskConfig(TypedDict, total=False):
    """Options of the Prefect tasks that run an agent's model requests, tool calls and event deliveries.

    Each key is the Prefect `@task` option of the same name. Keys left out keep durable-prefect's
    defaults: no retries, `persist_result=True` and `DEFAULT_CACHE_POLICY`, which together make a
    completed unit load its stored result when its flow run is retried or rerun.

    Example:
        ```python
        import os

        from pydantic_ai import Agent

        from durable_prefect import PrefectAgent, TaskConfig

        # OpenAI when OPENAI_API_KEY is set; otherwise PydanticAI's TestModel ('test') answers, offline.
        model = 'openai:gpt-6.1-sol' if os.environ.get('OPENAI_API_KEY') else 'test'
        agent = Agent(model, name='forecast')


        @agent.tool_plain
        def get_forecast(city: str) -> str:
            print(f'Looking up {city}')  # with log_prints, this goes to the task's Prefect logs
            return f'Sunny in {city} tomorrow'


        prefect_agent = PrefectAgent(
            agent,
            model_task_config=TaskConfig(retries=3, retry_delay_seconds=[1.0, 2.0, 4.0], timeout_seconds=30.0),
            tool_task_config=TaskConfig(retries=2, log_prints=True),
        )

        if __name__ == '__main__':
            print(prefect_agent.run_sync('Will it rain in Lisbon tomorrow?').output)
        ```
    """

    retries: int
    """How many times a failed task is tried again.

    Errors that fail the same way each time are never retried (durable-core's `is_retryable_error`): PydanticAI's
    `UserError`, and requests the provider rejected, such as a 400.
    """

    retry_delay_seconds: float | list[float]
    """Seconds to wait before each retry: one value for all, or one per retry."""

    timeout_seconds: float
    """Seconds one attempt may take before it fails with a timeout."""

    cache_policy: CachePolicy
    """How the task's cache key is computed; `DEFAULT_CACHE_POLICY` scopes it to the agent run.

    Use `UNIT_INPUTS` alone to reuse results across runs with the same inputs.
    """

    persist_result: bool
    """Whether the result is stored; `False` turns durability off for these tasks."""

    result_storage: WritableFileSystem | str
    """Where results are stored: a storage block or its slug, such as `'s3-bucket/my-results'`."""

    log_prints: bool
    """Whether `print` calls inside the task are sent to Prefect's logs."""


TaskConfigLike = TaskConfig | StepPolicy
"""Where a `TaskConfig` is accepted, a durable-core `StepPolicy` is too."""

_TASK_CONFIG_KEYS = frozenset(TaskConfig.__annotations__)
_MAX_PREFECT_DELAYS = 50


def task_options(config: TaskConfigLike | None, *, what: str) -> dict[str, Any]:
    """The `@task` options for units configured with `config`, checked now so misuse fails early.

    Args:
        config: The user's config, a `StepPolicy`, or `None` for the defaults.
        what: Which argument the config came from, for error messages.
    """
    options: dict[str, Any] = {
        'retries': 0,
        'persist_result': True,
        'cache_policy': DEFAULT_CACHE_POLICY,
        'result_serializer': 'json',
        'log_prints': False,
    }
    non_retryable: tuple[type[BaseException], ...] = ()
    if isinstance(config, StepPolicy):
        options['retries'] = config.retries
        if config.retries:
            options['retry_delay_seconds'] = config.delays()[:_MAX_PREFECT_DELAYS]
        if config.timeout is not None:
            options['timeout_seconds'] = config.timeout
        non_retryable += config.non_retryable_errors
    elif config is not None:
        options.update(_checked(config, what))

    def retry_condition_fn(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
        # Prefect hands over the exception as the failed state's data. Misuse and rejected requests fail the same
        # way each time: durable-core's `is_retryable_error` says which.
        error = state.data
        return not isinstance(error, BaseException) or is_retryable_error(error, non_retryable)

    options['retry_condition_fn'] = retry_condition_fn
    return options


def _checked(config: Mapping[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(config, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise DurableUsageError(
            f'{what} must be a TaskConfig (a dict) or a durable_core.StepPolicy, got {type(config).__name__}: '
            f'{what}=TaskConfig(retries=2).'
        )
    unknown = set(config) - _TASK_CONFIG_KEYS
    if unknown:
        raise DurableUsageError(
            f'Unknown TaskConfig keys {sorted(unknown)} in {what}; the keys are {sorted(_TASK_CONFIG_KEYS)}.'
        )
    retries = config.get('retries', 0)
    if not isinstance(retries, int) or retries < 0:
        raise DurableUsageError(f'{what}: retries must be an int of 0 or more, got {retries!r}.')
    delay = config.get('retry_delay_seconds')
    if isinstance(delay, list | tuple) and len(delay) > _MAX_PREFECT_DELAYS:  # pyright: ignore[reportUnknownArgumentType]
        raise DurableUsageError(
            f'{what}: Prefect accepts at most {_MAX_PREFECT_DELAYS} retry delays; give fewer or one number.'
        )
    timeout = config.get('timeout_seconds')
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise DurableUsageError(f'{what}: timeout_seconds must be a positive number, got {timeout!r}.')
    policy = config.get('cache_policy')
    if policy is not None and not isinstance(policy, CachePolicy):
        raise DurableUsageError(
            f'{what}: cache_policy must be a Prefect CachePolicy, such as durable_prefect.UNIT_INPUTS, '
            f'got {type(policy).__name__}.'
        )
    return dict(config)
