"""durable_prefect: durable PydanticAI agents on Prefect 3: runs are flows, model requests and tool calls are tasks."""

from ._agent import PrefectAgent
from ._cache import (
    DEFAULT_CACHE_POLICY,
    DEFAULT_PYDANTIC_AI_CACHE_POLICY,
    RUN_SCOPE,
    UNIT_IN_RUN,
    UNIT_INPUTS,
    RunScope,
    UnitInputs,
    UnitInRun,
)
from ._config import TaskConfig, TaskConfigLike
from ._dropin import PrefectFunctionToolset, PrefectMCPToolset, PrefectModel, PrefectOperationNamer
from ._durability import PrefectDurability
from .version import __version__

__all__ = [
    'DEFAULT_CACHE_POLICY',
    'DEFAULT_PYDANTIC_AI_CACHE_POLICY',
    'RUN_SCOPE',
    'UNIT_INPUTS',
    'UNIT_IN_RUN',
    'PrefectAgent',
    'PrefectDurability',
    'PrefectFunctionToolset',
    'PrefectMCPToolset',
    'PrefectModel',
    'PrefectOperationNamer',
    'RunScope',
    'TaskConfig',
    'TaskConfigLike',
    'UnitInRun',
    'UnitInputs',
    '__version__',
]
