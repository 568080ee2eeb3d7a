"""What test_journal_properties.py hands its workflow, and what the model saw in the activity, by workflow id.

The workflow imports this module passed through the sandbox, so the run gets the very objects the test generated
(a workflow argument would go through Temporal's Pydantic converter first) and the test reads what the worker's
model was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic_ai.messages import ModelMessage, UserContent
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import UsageLimits


@dataclass
class JournalDeps:
    """The agent's `deps_type`: dates, floats, a nested mapping and an optional field."""

    name: str
    day: date
    at: datetime
    scores: list[float]
    tags: dict[str, int]
    note: str | None = None


@dataclass
class JournalCase:
    """The arguments of one run."""

    prompt: str | list[UserContent]
    history: list[ModelMessage]
    deps: JournalDeps
    settings: ModelSettings | None
    usage_limits: UsageLimits


@dataclass
class ModelSaw:
    """What the model, in the model-request activity, was given."""

    messages: list[ModelMessage] = field(default_factory=list[ModelMessage])
    settings: ModelSettings | None = None
    deps: Any = None
    usage_limits: UsageLimits | None = None


CASES: dict[str, JournalCase] = {}
"""The run's arguments, by workflow id."""

SAW: dict[str, ModelSaw] = {}
"""What the model saw in the first model-request activity of each workflow, by workflow id."""
