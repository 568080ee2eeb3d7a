"""The one place durable-core reads a private part of PydanticAI, each read guarded and tested.

PydanticAI has no public accessor for an agent's `instructions` functions; an engine that must refuse sync ones
(Temporal: a sync function runs in a thread, which a workflow cannot wait for) reads the private list here.
`shared/tests/test_compat.py` fails if PydanticAI renames or reshapes it, so the guard never goes quiet unseen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic_ai.agent import AbstractAgent

__all__ = ['agent_instruction_functions']


def agent_instruction_functions(agent: AbstractAgent[Any, Any]) -> list[Callable[..., Any]]:
    """The functions among `agent`'s instructions (`Agent(instructions=f)`, `@agent.instructions`), in order.

    Reads PydanticAI's private `Agent._instructions` (a list of items with an `instruction` attribute, as of
    pydantic-ai 2.68); returns `[]` for an agent without it, such as a wrapper agent.
    """
    sourced: Any = getattr(agent, '_instructions', None) or ()
    functions: list[Callable[..., Any]] = []
    for item in sourced:
        instruction: Any = getattr(item, 'instruction', None)
        if callable(instruction):
            functions.append(instruction)
    return functions
