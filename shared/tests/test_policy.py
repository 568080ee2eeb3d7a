from __future__ import annotations

import pytest
from durable_core import DurableUsageError, StepPolicy, is_retryable_error
from pydantic_ai import ModelHTTPError, ModelRetry, UserError
from pydantic_ai.exceptions import ModelNotFoundError


def test_delays_grow_by_the_coefficient_up_to_the_maximum() -> None:
    policy = StepPolicy(retries=4, initial_interval=1.0, backoff_coefficient=3.0, maximum_interval=5.0)
    assert policy.max_attempts == 5
    assert policy.delays() == [1.0, 3.0, 5.0, 5.0]


def test_no_retries_means_one_attempt() -> None:
    assert StepPolicy().max_attempts == 1
    assert StepPolicy().delays() == []


@pytest.mark.parametrize(
    'kwargs',
    [
        {'retries': -1},
        {'initial_interval': -0.5},
        {'backoff_coefficient': 0.5},
        {'initial_interval': 2.0, 'maximum_interval': 1.0},
        {'timeout': 0},
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match='StepPolicy'):
        StepPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ('error', 'retryable'),
    [
        (ModelHTTPError(500, 'gpt'), True),
        (ModelHTTPError(503, 'gpt'), True),
        (ModelHTTPError(429, 'gpt'), True),
        (ModelHTTPError(408, 'gpt'), True),
        (ModelHTTPError(400, 'gpt'), False),
        (ModelHTTPError(401, 'gpt'), False),
        (ModelNotFoundError(404, 'gpt'), False),
        (UserError('misuse'), False),
        (DurableUsageError('misuse'), False),
        (ConnectionError('dropped'), True),
        (TimeoutError(), True),
        (ModelRetry('try again'), True),
    ],
)
def test_which_errors_an_engine_retries(error: BaseException, retryable: bool) -> None:
    assert is_retryable_error(error) is retryable


def test_configured_non_retryable_types() -> None:
    assert is_retryable_error(KeyError('x')) is True
    assert is_retryable_error(KeyError('x'), (LookupError,)) is False
