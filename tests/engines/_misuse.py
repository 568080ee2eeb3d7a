"""The misuse table every engine driver reports: its shape, and the cases all engines share.

`construction_cases(wrap)` are refused when an agent is wrapped; `run_time_cases(run_with, wrapper)` when a run is
started. Each engine driver adds its own cases (config keys, entry points it does not support, ...) around them.
In the capability form, `capability_construction_cases(durability, use)` give the same configs to the engine's
capability, refused at the agent's creation or first durable use, and `run_time_cases(..., capability=True)` make
the same bad runs through the agent's own `run()`, in a workflow or flow (`Contained`, on DBOS and Prefect), but for
those that have no meaning in that form (`NOT_IN_CAPABILITY_FORM`). `capability_only_cases` are that form's own.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from pydantic_ai import Agent, RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models.test import TestModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.realtime.openai import OpenAIRealtimeModel
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


def _twins() -> list[FunctionToolset[None]]:
    return [FunctionToolset[None](id='x'), FunctionToolset[None](id='x')]


Arguments = Callable[[], dict[str, Any]]
"""Builds keyword arguments anew for each attempt (toolsets and models are not shared between agents)."""

CONSTRUCTION: list[tuple[str, Arguments, Arguments, str]] = [
    # (case, the agent's arguments, the durability's: the wrapper's config or the capability's, the fix)
    ('missing agent name', lambda: {'model': TestModel()}, dict, "name='my_agent'"),
    ('malformed agent name', lambda: {'model': TestModel(), 'name': 'two words'}, dict, 'letters, digits'),
    (
        'toolset without id',
        lambda: {'model': TestModel(), 'name': 'm_no_id', 'toolsets': [FunctionToolset[None]()]},
        dict,
        "FunctionToolset(..., id='my_toolset')",
    ),
    (
        'duplicate toolset id',
        lambda: {'model': TestModel(), 'name': 'm_dup_id', 'toolsets': _twins()},
        dict,
        'each must be unique',
    ),
    (
        # Two dynamic toolsets without an id whose functions share a qualified name, so their derived ids collide.
        'dynamic toolsets whose derived ids collide',
        lambda: {
            'model': TestModel(),
            'name': 'misuse_dynamic',
            'toolsets': [_toolset_function(), _toolset_function()],
        },
        dict,
        'give one an id: @agent.toolset(id=',
    ),
    (
        'reserved model key',
        lambda: {'model': TestModel(), 'name': 'm_key'},
        lambda: {'models': {'default': TestModel()}},
        'Choose another key',
    ),
    ('agent without a model', lambda: {'name': 'm_no_model'}, dict, 'models={"fast": model}'),
    (
        'unknown parallel execution mode',
        lambda: {'model': TestModel(), 'name': 'm_mode'},
        lambda: {'parallel_execution_mode': 'fast'},
        "'parallel_ordered_events' or 'sequential'",
    ),
]
CONSTRUCTION_CASES = [name for name, _, _, _ in CONSTRUCTION]


TOOLS_INLINE_ACCEPTS = ('toolset without id',)
"""Shared construction cases that an engine whose function tools run in workflow code by default (DBOS) accepts."""


def construction_cases(wrap: Callable[..., Any], *, tools_inline: bool = False) -> list[Case]:
    """The shared cases refused when `wrap(agent, **config)`, the engine's wrapper, wraps an agent.

    `tools_inline`: the engine's function tools run in workflow code by default, so it accepts `TOOLS_INLINE_ACCEPTS`.
    """
    return [
        Case(name, construct(lambda agent=agent, config=config: wrap(Agent(**agent()), **config())), fix)
        for name, agent, config, fix in CONSTRUCTION
        if not (tools_inline and name in TOOLS_INLINE_ACCEPTS)
    ]


def capability_construction_cases(
    durability: Callable[..., AbstractCapability[Any]],
    use: Callable[[Agent[Any, Any]], Awaitable[Any]],
    *,
    tools_inline: bool = False,
) -> list[Case]:
    """The shared cases in the capability form: the config goes to `durability(**config)`, the engine's capability.

    `Agent(..., capabilities=[durability(**config)])` refuses some at once (a missing name); the others are refused
    when the capability builds its wrapper, at the agent's first durable use: `use(agent)` runs it in the driver's
    workflow or flow, or registers it on a worker.
    """

    async def attempt(agent: Arguments, config: Arguments) -> Any:
        return await use(Agent(**agent(), capabilities=[durability(**config())]))

    return [
        Case(name, lambda agent=agent, config=config: attempt(agent, config), fix)
        for name, agent, config, fix in CONSTRUCTION
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
        '{configure}event_stream_handler=handler)',
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

_NO_RUN_ARGUMENTS = (
    'No run argument is journaled in the capability form: the workflow or flow that calls run() passes it again when '
    "it recovers, and the model's answers are read back from their units (2.68's capability takes it too)."
)
_IN_PROCESS_DEPS = (
    'Deps are not journaled in the capability form here: its units run in the process of the workflow or flow that '
    'calls run(), which passes the deps again when it recovers.'
)
_STREAMS = (
    "The plain agent's own entry point, which the capability does not refuse (nor does 2.68's): its model requests "
    "are units, as run()'s are; the wrapper refuses it because its own run is a unit."
)
_RUN_TIME_TOOLSETS_IN_PROCESS = (
    'Accepted by design, as by 2.68 (a function toolset): units run in process need no registration, so a toolset '
    "the user's workflow code passes to run() becomes units under its id, and the same code passes it on recovery."
)
NOT_IN_CAPABILITY_FORM: dict[str, dict[str, str]] = {
    'dbos-sqlite': {
        'deps that cannot be serialized': _IN_PROCESS_DEPS,
        'deps of a subclass of deps_type': _IN_PROCESS_DEPS,
        'output type at run time': _NO_RUN_ARGUMENTS,
        'headers in run model settings': 'No step journals its inputs, so the model settings of a run reach no record.',
        'toolsets at run time': _RUN_TIME_TOOLSETS_IN_PROCESS,
        'run_stream inside a workflow': _STREAMS,
        'run_stream_events inside a workflow': _STREAMS,
    },
    'prefect': {
        'deps that cannot be serialized': _IN_PROCESS_DEPS,
        'deps of a subclass of deps_type': _IN_PROCESS_DEPS,
        'output type at run time': _NO_RUN_ARGUMENTS,
        'headers in run model settings': 'Tasks persist their results, not their inputs: no record holds the settings.',
        'toolsets at run time': _RUN_TIME_TOOLSETS_IN_PROCESS,
        'unregistered model instance inside a flow': 'Every run of the capability form is in a flow: that is the '
        "shared 'unregistered model instance'.",
        'run_stream_events inside a flow': _STREAMS,
    },
    'temporal': {
        'event handler at run time': 'Accepted by design, as by 2.68: no capability hook sees it (Agent.run() applies '
        'it around each node it streams), and it runs in workflow code, getting the same events as with 2.68 '
        '(tests/compat/test_temporal_run_time_handler_compat.py).',
        'output type at run time': _NO_RUN_ARGUMENTS,
        'run_stream inside a workflow': _STREAMS,
        'run_stream_events inside a workflow': _STREAMS,
    },
}
"""The wrapper's cases that have no meaning in the capability form, per engine, with why: not in that form's table.

Keyed as `tests/test_bad_input.py` names its targets. A driver's capability form leaves the shared ones out
(`run_time_cases(..., leave_out=NOT_IN_CAPABILITY_FORM[engine])`) and does not add its own ones.
"""


def run_time_kwargs(name: str) -> dict[str, Any]:
    """The misused `run()` arguments of a shared run-time case: deps that work, and what the case misuses."""
    (kwargs,) = [kwargs for case, kwargs, _ in RUN_TIME if case == name]
    return {'deps': NO_DEPS, **kwargs()}


def run_time_cases(
    run_case: Callable[[str], Awaitable[Any]],
    wrapper: str,
    *,
    in_process: bool,
    capability: bool = False,
    leave_out: Collection[str] = (),
) -> list[Case]:
    """The shared cases refused when a run starts; `run_case(name)` runs the agent with `run_time_kwargs(name)`.

    `in_process`: the engine's units run in the caller's process, so it accepts `RUN_IN_PROCESS_ACCEPTS`.
    `capability`: `wrapper` is the engine's capability (`TemporalDurability`), configured without the agent.
    `leave_out`: cases that have no meaning in this form (`NOT_IN_CAPABILITY_FORM` says why).
    """
    configure = f'{wrapper}(' if capability else f'{wrapper}(agent, '
    return [
        Case(name, lambda name=name: run_case(name), fix.replace('{configure}', configure))
        for name, _, fix in RUN_TIME
        if not (in_process and name in RUN_IN_PROCESS_ACCEPTS) and name not in leave_out
    ]


def durability_for_one_run(durability: Callable[[], AbstractCapability[Any]]) -> Callable[[], Awaitable[Any]]:
    """A plain agent's run given `durability()` for that run only, not when the agent is created."""
    return lambda: Agent(TestModel(), name='m_per_run').run('Hi', capabilities=[durability()])


def capability_only_cases(
    durability: type[AbstractCapability[Any]],
    wrap: Callable[[Agent[Any, Any]], Any],
    capable: Agent[Any, Any],
    for_one_run: Callable[[], Awaitable[Any]],
) -> list[Case]:
    """The capability form's own misuse that every engine refuses alike; `durability` is the engine's capability.

    `wrap`: the engine's wrapper, given `capable`, an agent with the capability. `for_one_run`: a run, in the driver's
    workflow or flow, of an agent given the capability for that run only (`durability_for_one_run`).
    """
    return [
        Case(
            'two durability capabilities on one agent',
            construct(lambda: Agent(TestModel(), name='m_twice', capabilities=[durability(), durability()])),
            'Keep one of them',
        ),
        Case(
            'wrapper around a capability agent',
            construct(lambda: wrap(capable)),
            'wrap an agent without the capability',
        ),
        Case(
            'durability capability given for one run',
            for_one_run,
            "give it when the agent is created, Agent(..., name='my_agent', "
            f'capabilities=[{durability.__name__}(...)])',
        ),
    ]


class Contained:
    """Attempts run in a driver's container (a `@DBOS.workflow`, a Prefect `@flow`), as a capability agent's are.

    The container takes only a key; its body, `body(key)`, awaits the attempt that key names, in this process.
    """

    def __init__(self, container: Callable[[str], Awaitable[Any]]) -> None:
        self._container = container
        self._keys = itertools.count(1)
        self._pending: dict[str, Callable[[], Awaitable[Any]]] = {}

    def __call__(self, attempt: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        """`attempt`, to be awaited in a container of its own."""

        async def contained() -> Any:
            key = str(next(self._keys))
            self._pending[key] = attempt
            return await self._container(key)

        return contained

    async def body(self, key: str) -> Any:
        return await self._pending.pop(key)()

    async def run(self, agent: Agent[Any, Any]) -> Any:
        """A plain run of `agent` in a container: the first durable use of a capability agent."""
        return await self(lambda: agent.run('Hi'))()

    def run_time_cases(self, agent: Agent[Any, Any], capability: str, leave_out: Collection[str]) -> list[Case]:
        """The shared run-time cases in the in-process capability form: each a run of `agent`, in a container."""

        async def run_case(name: str) -> Any:
            return await self(lambda: agent.run('Hi', **run_time_kwargs(name)))()

        return run_time_cases(run_case, capability, in_process=True, capability=True, leave_out=leave_out)


def _class_name(error: BaseException) -> str:
    return type(error).__name__


def _unreachable_realtime_model() -> OpenAIRealtimeModel:
    """A realtime model at a closed local port: a session that is not refused fails to connect, reaching no one."""
    return OpenAIRealtimeModel('gpt-realtime', provider=OpenAIProvider(api_key='x', base_url='http://127.0.0.1:9'))


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
    elif entry_point == 'override and run':  # the capability form: the plain agent's override, seen by its run
        with durable.override(model=TestModel()):
            await durable.run('Hi', deps=NO_DEPS)
    elif entry_point == 'run_sync':
        durable.run_sync('Hi', deps=NO_DEPS)
    elif entry_point == 'realtime':
        durable.realtime('openai:gpt-realtime')
    elif entry_point == 'realtime session':  # the capability form: the session is refused when it opens
        async with durable.realtime(_unreachable_realtime_model()).session():
            pass
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
