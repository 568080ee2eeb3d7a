"""`PydanticAIWorkflow`: the base class that lists a workflow's agents for `PydanticAIPlugin`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pydantic_ai.agent import AbstractAgent

    from ._agent import TemporalAgent

__all__ = ['PydanticAIWorkflow']


class PydanticAIWorkflow:
    """Base of workflow classes that run `TemporalAgent`s, or agents with `TemporalDurability`.

    List the agents in `__pydantic_ai_agents__` (either form); `PydanticAIPlugin` registers their activities on every
    worker that runs the workflow, once each, however many workflows list an agent.

    Example:
        ```python
        @workflow.defn
        class GeographyWorkflow(PydanticAIWorkflow):
            __pydantic_ai_agents__ = [temporal_agent]
        ```
    """

    __pydantic_ai_agents__: ClassVar[Sequence[TemporalAgent[Any, Any] | AbstractAgent[Any, Any]]] = ()
