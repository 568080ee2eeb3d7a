"""Test helpers for durable agents: scripted models, a local OpenAI-compatible server and crash-proof counters."""

from ._background import BackgroundJobModel
from ._counters import DurableCallCounter
from ._examples import (
    Fence,
    ReadmeExamples,
    aborted_in_temporal_finalization,
    call_each_tool_once,
    fenced_blocks,
    python_blocks,
    run_example,
)
from ._exports import public_api_problems
from ._openai_server import CallCounts, FaultKind, FaultPlan, OpenAICompatibleServer, RecordedRequest
from ._preloaded import PreloadedProcess, PreloadedPython
from ._scripted import ScriptedModel, ScriptExhaustedError, Step, StepLike, ToolCall
from ._servers import (
    PostgresServer,
    PrefectServer,
    ServerStartError,
    TemporalDevServer,
    find_executable,
    free_port,
    port_is_open,
    wait_for_port,
)

__all__ = [
    'BackgroundJobModel',
    'CallCounts',
    'DurableCallCounter',
    'FaultKind',
    'FaultPlan',
    'Fence',
    'OpenAICompatibleServer',
    'PostgresServer',
    'PrefectServer',
    'PreloadedProcess',
    'PreloadedPython',
    'ReadmeExamples',
    'RecordedRequest',
    'ScriptExhaustedError',
    'ScriptedModel',
    'ServerStartError',
    'Step',
    'StepLike',
    'TemporalDevServer',
    'ToolCall',
    'aborted_in_temporal_finalization',
    'call_each_tool_once',
    'fenced_blocks',
    'find_executable',
    'free_port',
    'port_is_open',
    'public_api_problems',
    'python_blocks',
    'run_example',
    'wait_for_port',
]
