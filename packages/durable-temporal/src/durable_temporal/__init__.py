"""durable_temporal: durable PydanticAI agents on Temporal."""

from durable_core import NotDurableWarning

from ._agent import TemporalAgent
from ._agent_plugin import AgentPlugin
from ._config import DEFAULT_ACTIVITY_CONFIG, ActivityConfig, ActivityConfigLike, LocalActivity, ToolActivityConfig
from ._continue_as_new import ContinueAsNewHandler
from ._converter import PydanticAIPayloadConverter
from ._dropin import (
    AgentEventStream,
    DurableAgentRunEvents,
    TemporalOperationNamer,
    TemporalRunContext,
    TemporalWrapperToolset,
    WorkflowStreamTopic,
    stream_agent_events,
    workflow_stream_event_handler,
)
from ._durability import TemporalDurability
from ._failures import IncompatibleDeployError
from ._logfire import LogfirePlugin
from ._plugin import PASSTHROUGH_MODULES, PydanticAIPlugin
from ._tracing import TracingPlugin
from ._workflow import PydanticAIWorkflow
from .version import __version__

__all__ = [
    'DEFAULT_ACTIVITY_CONFIG',
    'PASSTHROUGH_MODULES',
    'ActivityConfig',
    'ActivityConfigLike',
    'AgentEventStream',
    'AgentPlugin',
    'ContinueAsNewHandler',
    'DurableAgentRunEvents',
    'IncompatibleDeployError',
    'LocalActivity',
    'LogfirePlugin',
    'NotDurableWarning',
    'PydanticAIPayloadConverter',
    'PydanticAIPlugin',
    'PydanticAIWorkflow',
    'TemporalAgent',
    'TemporalDurability',
    'TemporalOperationNamer',
    'TemporalRunContext',
    'TemporalWrapperToolset',
    'ToolActivityConfig',
    'TracingPlugin',
    'WorkflowStreamTopic',
    '__version__',
    'stream_agent_events',
    'workflow_stream_event_handler',
]
