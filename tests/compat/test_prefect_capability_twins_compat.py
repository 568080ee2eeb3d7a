"""Ours against PydanticAI 2.68's `durable_exec.prefect`: the Prefect wrapper programs in the capability form (#15).

Each test here is the twin of the wrapper test of the same name (in `test_prefect_dropin_compat.py`, or
`test_dropin_names_compat.py`): the same program (for `iter()` and run-time models, the helper both call) with
`PrefectDurability` on a plain `Agent` in place of `PrefectAgent`, its runs in the user's own flow, run in this process
with either implementation's module on the session's Prefect server. A wrapper test with no twin is in
`NO_CAPABILITY_TWIN`, with the reason, which the summary shows.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any

import pytest
import test_dropin_names_compat
import test_prefect_dropin_compat
from _summary import compat_difference
from durable_core.testing import DurableCallCounter
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel
from test_prefect_dropin_compat import (  # pyright: ignore[reportPrivateUsage]
    _CountingModel,
    _in_a_retried_flow,
    _iter_in_a_retried_flow,
    _output,
    _unregistered_model_refused_in_a_flow,
    _weather_agent,
)

MODULES = {'pydantic_ai': 'pydantic_ai.durable_exec.prefect', 'ours': 'durable_prefect'}
IMPLS = ['pydantic_ai', 'ours']

NO_CAPABILITY_TWIN = {
    'test_every_name_of_2_68s_prefect_module_imports_from_ours': 'names only, PrefectDurability among them: no agent',
    'test_a_plain_agent_with_prefect_model_and_function_toolset_built_as_2_68_does': (
        "PrefectModel and PrefectFunctionToolset built by hand are the wrapper's parts; the capability builds its own"
    ),
}
"""Prefect wrapper tests with no capability-form twin, and why."""


def _module(impl: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        return importlib.import_module(MODULES[impl])


@pytest.mark.parametrize('impl', IMPLS)
async def test_iter_inside_a_flow_repeats_nothing_on_a_retry(impl: str, tmp_path: Path, prefect_api_url: str) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    agent = _weather_agent(counter, f'compat_capability_iter_{impl}', [_module(impl).PrefectDurability()])
    await _iter_in_a_retried_flow(agent, counter)


@pytest.mark.parametrize('how', ['run', 'override'])
@pytest.mark.parametrize('impl', IMPLS)
async def test_an_unregistered_model_instance_in_a_flow_is_refused_before_any_request(
    impl: str, how: str, prefect_api_url: str
) -> None:
    agent = Agent(
        TestModel(),
        name=f'compat_capability_unregistered_{how}_{impl}',
        capabilities=[_module(impl).PrefectDurability()],
    )
    error = await _unregistered_model_refused_in_a_flow(agent, how)
    # Unlike the wrappers (2.68's takes only its own model), both capabilities take an instance registered by key.
    assert 'PrefectDurability' in str(error)
    assert 'models=' in str(error)


@pytest.mark.parametrize('impl', IMPLS)
async def test_prefect_default_pydantic_ai_cache_policy_configures_a_task_that_runs(
    impl: str, tmp_path: Path, prefect_api_url: str
) -> None:
    from prefect.cache_policies import CachePolicy

    prefect = _module(impl)
    policy = prefect.DEFAULT_PYDANTIC_AI_CACHE_POLICY
    assert isinstance(policy, CachePolicy)
    counter = DurableCallCounter(tmp_path / 'calls.log')
    model = _CountingModel(['cached'], counter)
    durability = prefect.PrefectDurability(model_task_config=prefect.TaskConfig(cache_policy=policy))
    agent = Agent(model, name=f'capability_cache_policy_{impl}', capabilities=[durability])
    output, _ = await _in_a_retried_flow(lambda: _output(agent, 'hi'))
    assert output == 'cached'
    assert counter.counts() == {'model': 1}  # the retry read the model request's result back


def test_every_prefect_wrapper_test_has_a_capability_twin_or_a_reason(request: pytest.FixtureRequest) -> None:
    wrapper_tests = {name for name in vars(test_prefect_dropin_compat) if name.startswith('test_')}
    wrapper_tests |= {name for name in vars(test_dropin_names_compat) if name.startswith('test_prefect')}
    twins = {name for name in globals() if name.startswith('test_') and name in wrapper_tests}
    assert sorted(twins | set(NO_CAPABILITY_TWIN)) == sorted(wrapper_tests)
    assert not twins & set(NO_CAPABILITY_TWIN)
    for program, reason in NO_CAPABILITY_TWIN.items():
        compat_difference(f'{request.node.nodeid}[{program}]', f'no capability twin: {reason}')
