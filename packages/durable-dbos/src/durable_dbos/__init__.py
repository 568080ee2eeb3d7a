"""durable_dbos: durable PydanticAI agents on DBOS, with SQLite or PostgreSQL."""

from ._agent import DBOSAgent, DBOSParallelExecutionMode, IncompatibleDeployError
from ._config import StepConfig
from ._dropin import ChildWorkflowConfig, DBOSModel, DBOSOperationNamer
from ._durability import DBOSDurability
from ._warnings import CreatedAfterLaunchWarning
from .version import __version__

__all__ = [
    'ChildWorkflowConfig',
    'CreatedAfterLaunchWarning',
    'DBOSAgent',
    'DBOSDurability',
    'DBOSModel',
    'DBOSOperationNamer',
    'DBOSParallelExecutionMode',
    'IncompatibleDeployError',
    'StepConfig',
    '__version__',
]
