"""Test helpers for durable agents: scripted models, a local OpenAI-compatible server and crash-proof counters."""

from ._counters import DurableCallCounter
from ._openai_server import CallCounts, FaultKind, FaultPlan, OpenAICompatibleServer, RecordedRequest
from ._scripted import ScriptedModel, ScriptExhaustedError, Step, StepLike, ToolCall

__all__ = [
    'CallCounts',
    'DurableCallCounter',
    'FaultKind',
    'FaultPlan',
    'OpenAICompatibleServer',
    'RecordedRequest',
    'ScriptExhaustedError',
    'ScriptedModel',
    'Step',
    'StepLike',
    'ToolCall',
]
