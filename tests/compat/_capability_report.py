"""What the capability-form compat programs share: the expected report of a run and the wrapper-only programs.

The DBOS and Temporal capability programs (`dbos_capability.py`, `_temporal_dropin_capability.py`) run the same
agent: a scripted model that calls the tool `lookup` once and then answers `'the answer'`, and an event handler. A
run that reaches the model twice and the tool once reports `IN_WORKFLOW`; `capability_steps` names our steps (or
activities) for it, which are our wrapper's, so a deploy can move between the wrapper and the capability.
"""

from __future__ import annotations

from typing import Any

MODEL_EVENTS = sorted({'PartStartEvent', 'PartDeltaEvent', 'PartEndEvent', 'FinalResultEvent'})
"""The kinds of events of a model response, streamed to the event handler."""

TOOL_EVENTS = sorted({'FunctionToolCallEvent', 'FunctionToolResultEvent'})
"""The kinds of events of a tool call and its result."""

IN_WORKFLOW: dict[str, Any] = {
    'output': 'the answer',
    'model': 2,
    'tool': 1,
    'events': sorted({*MODEL_EVENTS, *TOOL_EVENTS}),
}
"""The report of a run that made both model requests and the tool call: output, counts at the source, events."""


def capability_steps(agent_name: str, *units: str) -> list[str]:
    """Our step (activity, task) names for `units` of the agent `agent_name`: `<agent>.<unit>`, in order."""
    return [f'{agent_name}.{unit}' for unit in units]
