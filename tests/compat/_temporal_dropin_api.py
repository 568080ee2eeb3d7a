"""Which Temporal API a drop-in program runs against, PydanticAI 2.68's or ours, and in which form.

The driver calls `select()` before it imports a program; a program's workflow module imports this module passed
through the sandbox, so its `api` and `form` are the ones the driver chose, in workflow code too. A program builds its
agent in the selected form with `capabilities()` and `durable()`: the wrapper form, `TemporalAgent(agent, ...)`, or
the capability form, `Agent(..., capabilities=[TemporalDurability(...)])`, run by the agent itself. `HOST_MODULES`
holds modules as the driver imported them, for programs that compare them with what workflow code imports.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

IMPLEMENTATIONS = {'pai': 'pydantic_ai.durable_exec.temporal', 'ours': 'durable_temporal'}
"""The implementations, by the name the driver and the tests use."""

FORMS = ('wrapper', 'capability')
"""An agent's durable forms: `TemporalAgent(agent, ...)`, or `Agent(..., capabilities=[TemporalDurability(...)])`."""

api: Any = None
"""`pydantic_ai.durable_exec.temporal` or `durable_temporal`, once selected."""

form = 'wrapper'
"""One of `FORMS`, once selected."""

HOST_MODULES: dict[str, ModuleType] = {}


def select(implementation: str, selected_form: str = 'wrapper') -> None:
    """Point `api` at the implementation's module, and `form` at the form its programs build their agents in."""
    global api, form
    if selected_form not in FORMS:
        raise ValueError(f'the form is one of {FORMS}, not {selected_form!r}')
    api = importlib.import_module(IMPLEMENTATIONS[implementation])
    form = selected_form


def capabilities(**options: Any) -> list[Any]:
    """An agent's `capabilities=` in the selected form: `[TemporalDurability(**options)]`, none for the wrapper."""
    return [api.TemporalDurability(**options)] if form == 'capability' else []


def durable(agent: Any, **options: Any) -> Any:
    """What a workflow runs and lists: `TemporalAgent(agent, **options)`, or the agent (`capabilities()` took them)."""
    return api.TemporalAgent(agent, **options) if form == 'wrapper' else agent


def forms_built(namespace: dict[str, Any]) -> set[str]:
    """The forms of the durable agents among a program's globals: `TemporalAgent`s, agents with `TemporalDurability`."""
    from pydantic_ai import Agent

    built: set[str] = set()
    for value in namespace.values():
        if isinstance(value, api.TemporalAgent):
            built.add('wrapper')
        elif isinstance(value, Agent) and any(
            isinstance(capability, api.TemporalDurability) for capability in value.root_capability.capabilities
        ):
            built.add('capability')
    return built
