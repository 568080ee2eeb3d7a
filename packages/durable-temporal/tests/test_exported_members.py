"""``durable_temporal.__all__``: sorted, unique, defined, and naming every public name its ``__init__`` binds."""

from __future__ import annotations

import durable_temporal
from durable_core.testing import public_api_problems

PYDANTIC_AI_2_68_NAMES = [
    'AgentEventStream',
    'AgentPlugin',
    'ContinueAsNewHandler',
    'DurableAgentRunEvents',
    'PydanticAIPayloadConverter',
    'PydanticAIPlugin',
    'PydanticAIWorkflow',
    'TemporalAgent',
    'TemporalDurability',
    'TemporalOperationNamer',
    'TemporalRunContext',
    'TemporalWrapperToolset',
    'WorkflowStreamTopic',
    'stream_agent_events',
    'workflow_stream_event_handler',
]
"""`pydantic_ai.durable_exec.temporal.__all__` of PydanticAI 2.68, pinned here (tests/compat checks ours against the
installed one), but for `LogfirePlugin`, which its own change adds and tests."""


def test_public_api_is_complete_and_sorted() -> None:
    assert public_api_problems(durable_temporal) == []


def test_every_name_2_68_code_imports_is_public() -> None:
    assert [name for name in PYDANTIC_AI_2_68_NAMES if name not in durable_temporal.__all__] == []
