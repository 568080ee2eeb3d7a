"""durable_dbos: durable PydanticAI agents on DBOS, with SQLite or PostgreSQL."""

from ._agent import DBOSAgent, DBOSParallelExecutionMode
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
    'StepConfig',
    '__version__',
]
