"""The misuse table every engine driver reports: its shape, and the cases all engines share.

`construction_cases(wrap)` are refused when an agent is wrapped; `run_time_cases(run_with, wrapper)` when a run is
started. Each engine driver adds its own cases (config keys, entry points it does not support, ...) around them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic_ai import Agent, RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset


@dataclass
class Case:
    name: str
    attempt: Callable[[], Awaitable[Any]]
    fix: str
    """Text the error must contain: the fix it names."""


@dataclass
class Handle:
    """The deps type of the misuse agents; `resource` holds what cannot be serialized."""

    resource: Any


NO_DEPS = Handle(resource=None)


@dataclass
class LabelledHandle(Handle):
    """A subclass of the deps type: journaled as a `Handle`, it would lose its label."""

    label: str = ''


def construct(build: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def attempt() -> Any:
        return build()

    return attempt


def _toolset_function() -> Callable[[RunContext[None]], FunctionToolset[None]]:
    def tools(ctx: RunContext[None]) -> FunctionToolset[None]:
        return FunctionToolset()

    return tools


def _derived_twins(wrap: Callable[..., Any]) -> Any:
    """Two dynamic toolsets without an id whose functions share a qualified name, so their derived ids collide."""
    return wrap(Agent(TestModel(), name='misuse_dynamic', toolsets=[_toolset_function(), _toolset_function()]))


def _twins() -> list[FunctionToolset[None]]:
    return [FunctionToolset[None](id='x'), FunctionToolset[None](id='x')]


CONSTRUCTION: list[tuple[str, Callable[[Callable[..., Any]], Any], str]] = [
    ('missing agent name', lambda wrap: wrap(Agent(TestModel())), "name='my_agent'"),
    ('malformed agent name', lambda wrap: wrap(Agent(TestModel(), name='two words')), 'letters, digits'),
    (
        'toolset without id',
        lambda wrap: wrap(Agent(TestModel(), name='m_no_id', toolsets=[FunctionToolset[None]()])),
        "FunctionToolset(..., id='my_toolset')",
    ),
    (
        'duplicate toolset id',
        lambda wrap: wrap(Agent(TestModel(), name='m_dup_id', toolsets=_twins())),
        'each must be unique',
    ),
    ('dynamic toolsets whose derived ids collide', _derived_twins, 'give one an id: @agent.toolset(id='),
    (
        'reserved model key',
        lambda wrap: wrap(Agent(TestModel(), name='m_key'), models={'default': TestModel()}),
        'Choose another key',
    ),
    ('agent without a model', lambda wrap: wrap(Agent(name='m_no_model')), 'models={"fast": model}'),
    (
        'unknown parallel execution mode',
        lambda wrap: wrap(Agent(TestModel(), name='m_mode'), parallel_execution_mode='fast'),
        "'parallel_ordered_events' or 'sequential'",
    ),
]
CONSTRUCTION_CASES = [name for name, _, _ in CONSTRUCTION]


TOOLS_INLINE_ACCEPTS = ('toolset without id',)
"""Shared construction cases that an engine whose function tools run in workflow code by default (DBOS) accepts."""


def construction_cases(wrap: Callable[..., Any], *, tools_inline: bool = False) -> list[Case]:
    """The shared cases refused when `wrap(agent, **config)`, the engine's wrapper, wraps an agent.

    `tools_inline`: the engine's function tools run in workflow code by default, so it accepts `TOOLS_INLINE_ACCEPTS`.
    """
    return [
        Case(name, construct(lambda build=build: build(wrap)), fix)
        for name, build, fix in CONSTRUCTION
        if not (tools_inline and name in TOOLS_INLINE_ACCEPTS)
    ]


async def noop_handler(ctx: RunContext[Any], events: Any) -> None:
    pass


RUN_TIME: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
    ('deps that cannot be serialized', lambda: {'deps': Handle(resource=len)}, 'deps_type'),
    (
        'deps of a subclass of deps_type',
        lambda: {'deps': LabelledHandle(resource=None, label='custom')},
        'deps_type=LabelledHandle',
    ),
    ('unregistered model instance', lambda: {'model': TestModel()}, 'models={"my_model": model}'),
    ('toolsets at run time', lambda: {'toolsets': [FunctionToolset(id='late')]}, 'Agent(..., toolsets=[...])'),
    (
        'event handler at run time',
        lambda: {'event_stream_handler': noop_handler},
        '{wrapper}(agent, event_stream_handler=handler)',
    ),
    ('output type at run time', lambda: {'output_type': int}, 'on the `Agent` itself'),
    ('capabilities at run time', lambda: {'capabilities': [AbstractCapability()]}, 'to the `Agent` itself'),
    (
        'headers in run model settings',
        lambda: {'model_settings': {'extra_headers': {'Authorization': 'x'}}},
        'default_headers',
    ),
]
RUN_TIME_CASES = [name for name, _, _ in RUN_TIME]
RUN_IN_PROCESS_ACCEPTS = ('event handler at run time',)
"""Shared run-time cases that an engine whose units run in the caller's process (DBOS, Prefect) accepts."""


def run_time_kwargs(name: str) -> dict[str, Any]:
    """The misused `run()` arguments of a shared run-time case: deps that work, and what the case misuses."""
    (kwargs,) = [kwargs for case, kwargs, _ in RUN_TIME if case == name]
    return {'deps': NO_DEPS, **kwargs()}


def run_time_cases(run_case: Callable[[str], Awaitable[Any]], wrapper: str, *, in_process: bool) -> list[Case]:
    """The shared cases refused when a run starts; `run_case(name)` runs the agent with `run_time_kwargs(name)`.

    `in_process`: the engine's units run in the caller's process, so it accepts `RUN_IN_PROCESS_ACCEPTS`.
    """
    return [
        Case(name, lambda name=name: run_case(name), fix.replace('{wrapper}', wrapper))
        for name, _, fix in RUN_TIME
        if not (in_process and name in RUN_IN_PROCESS_ACCEPTS)
    ]


def _class_name(error: BaseException) -> str:
    return type(error).__name__


async def misuse_entry_point(durable: Any, entry_point: str) -> None:
    """Call one of `durable`'s entry points that engines refuse inside their workflow or flow."""
    if entry_point == 'run_stream':
        async with durable.run_stream('Hi', deps=NO_DEPS):
            pass
    elif entry_point == 'run_stream_events':
        async for _ in durable.run_stream_events('Hi', deps=NO_DEPS):
            pass
    elif entry_point == 'iter':
        async with durable.iter('Hi', deps=NO_DEPS):
            pass
    elif entry_point == 'override':
        with durable.override(model=TestModel()):
            pass
    elif entry_point == 'run_sync':
        durable.run_sync('Hi', deps=NO_DEPS)
    elif entry_point == 'realtime':
        durable.realtime('openai:gpt-realtime')
    else:
        raise ValueError(f'no such entry point: {entry_point}')


async def run_cases(
    engine: str,
    cases: list[Case],
    journaled: Callable[[], Awaitable[int]] | None,
    error_type: Callable[[BaseException], str] = _class_name,
) -> list[dict[str, Any]]:
    """Try each case; record the error (its type as `error_type` tells), whether it names the fix, what it journaled."""
    results: list[dict[str, Any]] = []
    for case in cases:
        before = await journaled() if journaled else 0
        error: BaseException | None = None
        try:
            await case.attempt()
        except Exception as raised:
            error = raised
        after = await journaled() if journaled else 0
        message = str(error) if error else ''
        results.append(
            {
                'engine': engine,
                'case': case.name,
                'error_type': error_type(error) if error else None,
                'message': message[:600],
                'names_fix': case.fix in message,
                'journaled': after - before,
            }
        )
    return results
