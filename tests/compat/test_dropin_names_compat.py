"""Ours against PydanticAI 2.68's `durable_exec`: public names 2.68 code imports (issue 14, item 17).

One program per name, run with either implementation's module: the name imports, and code that uses it as 2.68's
users do works the same. Our names are aliases of our own (`DBOSParallelExecutionMode` is `ParallelExecutionMode`,
`DEFAULT_PYDANTIC_AI_CACHE_POLICY` is `DEFAULT_CACHE_POLICY`); their docstrings say so.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any, get_args

import pytest
from pydantic_ai import Agent, PydanticAIDeprecationWarning
from pydantic_ai.models.test import TestModel

MODULES = {
    'dbos': {'pydantic_ai': 'pydantic_ai.durable_exec.dbos', 'ours': 'durable_dbos'},
    'prefect': {'pydantic_ai': 'pydantic_ai.durable_exec.prefect', 'ours': 'durable_prefect'},
}


def _module(engine: str, impl: str) -> Any:
    return importlib.import_module(MODULES[engine][impl])


@pytest.mark.parametrize('impl', ['pydantic_ai', 'ours'])
def test_dbos_parallel_execution_mode_names_the_two_modes(impl: str) -> None:
    mode: Any = _module('dbos', impl).DBOSParallelExecutionMode
    assert set(get_args(mode)) == {'sequential', 'parallel_ordered_events'}


@pytest.mark.parametrize('impl', ['pydantic_ai', 'ours'])
async def test_prefect_default_pydantic_ai_cache_policy_configures_a_task_that_runs(
    impl: str, prefect_api_url: str
) -> None:
    from prefect.cache_policies import CachePolicy

    prefect = _module('prefect', impl)
    policy = prefect.DEFAULT_PYDANTIC_AI_CACHE_POLICY
    assert isinstance(policy, CachePolicy)
    agent = Agent(TestModel(custom_output_text='cached'), name=f'dropin_cache_policy_{impl}')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', PydanticAIDeprecationWarning)  # 2.68 deprecates it for its capability
        wrapper = prefect.PrefectAgent(agent, model_task_config=prefect.TaskConfig(cache_policy=policy))
    assert (await wrapper.run('hi')).output == 'cached'
