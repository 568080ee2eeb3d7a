"""durable_dbos: durable PydanticAI agents on DBOS, with SQLite or PostgreSQL."""

from ._agent import DBOSAgent, DBOSParallelExecutionMode
from ._config import StepConfig
from ._warnings import CreatedAfterLaunchWarning
from .version import __version__

__all__ = ['CreatedAfterLaunchWarning', 'DBOSAgent', 'DBOSParallelExecutionMode', 'StepConfig', '__version__']
