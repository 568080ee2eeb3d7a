"""durable_temporal: durable PydanticAI agents on Temporal."""

from durable_core import NotDurableWarning

from ._agent import TemporalAgent
from ._agent_plugin import AgentPlugin
from ._config import DEFAULT_ACTIVITY_CONFIG, ActivityConfig, ActivityConfigLike, LocalActivity, ToolActivityConfig
from ._converter import PydanticAIPayloadConverter
from ._plugin import PASSTHROUGH_MODULES, PydanticAIPlugin
from ._tracing import TracingPlugin
from ._workflow import PydanticAIWorkflow
from .version import __version__

__all__ = [
    'DEFAULT_ACTIVITY_CONFIG',
    'PASSTHROUGH_MODULES',
    'ActivityConfig',
    'ActivityConfigLike',
    'AgentPlugin',
    'LocalActivity',
    'NotDurableWarning',
    'PydanticAIPayloadConverter',
    'PydanticAIPlugin',
    'PydanticAIWorkflow',
    'TemporalAgent',
    'ToolActivityConfig',
    'TracingPlugin',
    '__version__',
]
