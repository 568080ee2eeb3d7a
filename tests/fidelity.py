"""The recovery-fidelity program, written once: an agent run whose every value must come back from a journal unchanged.

The agent declares a pydantic `output_type` (a nested model and a `date`), a dataclass `deps_type`, and one tool whose
return holds a `date`. Each run is given a `message_history` holding a `BinaryContent` image and a `ToolReturnPart`
whose content holds a `date`, and `usage_limits=UsageLimits(request_limit=None)`. The model is a `FunctionModel`
that answers from the messages alone: first two parallel calls of the tool (ids `call-1` and `call-2`, the same in
every run, so two runs in one workflow share tool-call ids), then the output, built from what the tools returned
(so a run that got another run's tool results says so in its output). Its responses carry their own timestamps, as
a provider's do, so they must survive a journal too.

Every model request and tool call records itself at its source (`record`), labelled by the run's requester where
the unit can know it: `model:1`, `tool:<city>:<requester>`, `model:2:<requester>`. `hold(city)` lets a driver stop a
tool mid-call (to be killed there).

Drivers report what a run returned as `observe(result)`, pickled (pickle keeps every class, so the test compares
the very values); `differences` compares two observations field by field.
"""

from __future__ import annotations

import base64
import dataclasses
import pickle
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from pydantic_ai import Agent, BinaryContent, RunContext, UsageLimits
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

PROMPT = 'Plan my trip: Lisbon, then Porto.'
SINGLE = 'R0'
"""The requester of a single run."""
PAIR = ('R1', 'R2')
"""The requesters of the two runs that one workflow or flow starts together."""
CITIES = ('Lisbon', 'Porto')
HELD_CITY = 'Porto'
"""The tool call a driver holds, to be killed in the middle of it; the other call completes first."""


class Place(BaseModel):
    city: str
    country: str


class Trip(BaseModel):
    """The agent's output: a nested model and a date, so a run rebuilt as plain JSON shows."""

    traveller: str
    destination: Place
    depart: date
    fares: list[int]
    fare_requesters: list[str]


@dataclass
class TripDeps:
    requester: str
    budget: int


def _at(minute: int) -> datetime:
    return datetime(2026, 1, 5, 9, minute, 30, 250000, tzinfo=UTC)


# The smallest valid PNG: a 1x1 transparent pixel.
PNG = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
)


def history() -> list[ModelMessage]:
    """The `message_history` every run is given (a fresh copy each time: a run must not change the caller's)."""
    return [
        ModelRequest(
            parts=[
                UserPromptPart(['My passport photo:', BinaryContent(PNG, media_type='image/png')], timestamp=_at(0))
            ],
            timestamp=_at(0),
        ),
        ModelResponse(
            parts=[ToolCallPart('lookup_fare', {'city': 'Madrid'}, tool_call_id='hist-1')],
            model_name='scripted',
            timestamp=_at(1),
        ),
        ModelRequest(
            parts=[
                ToolReturnPart(
                    'lookup_fare',
                    {'city': 'Madrid', 'fare': 99, 'valid_until': date(2026, 2, 1)},
                    tool_call_id='hist-1',
                    timestamp=_at(2),
                )
            ],
            timestamp=_at(2),
        ),
        ModelResponse(parts=[TextPart('Madrid costs 99 until February.')], model_name='scripted', timestamp=_at(3)),
    ]


HISTORY_LENGTH = len(history())


def run_kwargs(requester: str) -> dict[str, Any]:
    """Everything a run is started with besides the prompt."""
    return {
        'deps': TripDeps(requester=requester, budget=len(requester) * 100),
        'message_history': history(),
        'usage_limits': UsageLimits(request_limit=None),
    }


Record = Callable[[str], None]
Hold = Callable[[str], Awaitable[None]]


async def no_hold(city: str) -> None:
    """Hold no tool call."""


def _tool_returns(messages: Sequence[ModelMessage]) -> list[ToolReturnPart]:
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    return [part for part in last.parts if isinstance(part, ToolReturnPart)]


def build_agent(
    name: str, record: Record, hold: Hold = no_hold, capabilities: Sequence[Any] = ()
) -> Agent[TripDeps, Trip]:
    """The fidelity agent, named `name`; its units record into `record` and its tool awaits `hold(city)` first.

    `capabilities`: the agent's own, such as a durability capability (the capability form).
    """

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        returns = _tool_returns(messages)
        if not returns:  # the new prompt: look both cities up, in parallel
            record('model:1')
            calls = [
                ToolCallPart('lookup_fare', {'city': city}, tool_call_id=f'call-{n}')
                for n, city in enumerate(CITIES, 1)
            ]
            return ModelResponse(parts=calls, timestamp=_at(10), provider_response_id='resp-1')
        values = [part.content for part in returns]
        requesters = [value['requester'] for value in values]
        record(f'model:2:{requesters[0]}')
        first: date = values[0]['valid_until']
        output = {
            'traveller': requesters[0],
            'destination': {'city': values[-1]['city'], 'country': 'Portugal'},
            'depart': (first if isinstance(first, str) else first.isoformat()),
            'fares': [value['fare'] for value in values],
            'fare_requesters': requesters,
        }
        call = ToolCallPart(info.output_tools[0].name, output, tool_call_id='call-3')
        return ModelResponse(parts=[call], timestamp=_at(20), provider_response_id='resp-2')

    agent = Agent(
        FunctionModel(answer, model_name='scripted'),
        name=name,
        deps_type=TripDeps,
        output_type=Trip,
        capabilities=list(capabilities),
    )

    @agent.tool
    async def lookup_fare(ctx: RunContext[TripDeps], city: str) -> dict[str, Any]:
        """The fare to a city, valid until a date."""
        record(f'tool:{city}:{ctx.deps.requester}')
        await hold(city)
        return {
            'city': city,
            'requester': ctx.deps.requester,
            'fare': ctx.deps.budget + len(city),
            'valid_until': date(2026, 4, len(city)),
        }

    return agent


def expected_calls(requesters: Sequence[str]) -> dict[str, int]:
    """The units of one uninterrupted run per requester, each once."""
    calls = {'model:1': len(requesters)}
    for requester in requesters:
        calls.update({f'tool:{city}:{requester}': 1 for city in CITIES})
        calls[f'model:2:{requester}'] = 1
    return calls


# ---- what a driver reports ---------------------------------------------------------------------------------------


def observe(result: Any) -> dict[str, Any]:
    """What a run returned, as the test compares it. Anything that is not a run result is reported as it is."""
    if not hasattr(result, 'all_messages'):
        return {'result_class': type(result).__qualname__, 'value': repr(result)[:300]}
    from pydantic_ai.agent import AgentRunResult

    return {
        'result_class': type(result).__qualname__,
        'run_result': isinstance(result, AgentRunResult),
        'output': result.output,
        'messages': result.all_messages(),
        'usage': result.usage,
    }


async def report_path(
    report: dict[str, Any], key: str, make: Callable[[], Awaitable[Any]], units: Callable[[], int]
) -> None:
    """Run one path into `report[key]`: its value, or its error; and into `report[key + ':units']` the units it ran."""
    before = units()
    try:
        report[key] = await make()
    except Exception as error:  # reported, so the test shows which path failed and why
        trace = ''.join(traceback.format_exception(error))[-2500:]
        report[key] = {'error': f'{type(error).__name__}: {error}\n{trace}'}
    report[f'{key}:units'] = units() - before


def dumps(value: Any) -> str:
    """A driver's report value as text: pickled, so classes survive the trip to the test."""
    return base64.b64encode(pickle.dumps(value)).decode()


def loads(text: str) -> Any:
    return pickle.loads(base64.b64decode(text))


# ---- comparing -------------------------------------------------------------------------------------------------

_RUN_STAMPED = ('timestamp', 'run_id', 'conversation_id')


def _unstamped(messages: Sequence[ModelMessage]) -> list[Any]:
    """Messages a run created, without what the run stamps them with: its clock and its ids.

    Two different runs (another workflow id, another time) legitimately differ there: PydanticAI stamps each request
    and request part it builds with the run's clock, and each message with the run's id and conversation id (which
    a durable run derives from its workflow or flow run). A model response's timestamp is the model's (the provider's),
    so it stays compared.
    """
    cleaned: list[Any] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            parts = [
                dataclasses.replace(part, timestamp=None) if hasattr(part, 'timestamp') else part  # type: ignore[type-var]
                for part in message.parts
            ]
            message = dataclasses.replace(message, parts=parts, timestamp=None)
        message = dataclasses.replace(message, run_id=None, conversation_id=None)
        cleaned.append(message)
    return cleaned


def first_difference(expected: Any, got: Any, path: str = '') -> str | None:
    """Where two values first differ, and how, or `None` when they are equal: same classes, same values.

    Stricter than `==` (which says a `dict` never equals a model, nor a `date` a string), in that a class changed
    under an equal value shows too (a `tuple` for a `list`), except for numbers: a field whose default is `0` and
    comes back as `0.0` is equal, as `==` says.
    """
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(got, numbers) and not isinstance(expected, bool):
        return (
            None
            if expected == got and not isinstance(got, bool)
            else f'{path}: {got!r} where {expected!r} was expected'
        )
    if type(expected) is not type(got):
        wanted = type(expected).__qualname__
        return f'{path or "value"}: {type(got).__qualname__} where {wanted} was expected ({got!r:.200})'
    if isinstance(expected, list | tuple):
        if len(expected) != len(got):
            return f'{path}: {len(got)} items where {len(expected)} were expected'
        for index, (a, b) in enumerate(zip(expected, got, strict=True)):
            found = first_difference(a, b, f'{path}[{index}]')
            if found:
                return found
        return None
    if isinstance(expected, dict):
        if list(expected) != list(got):
            return f'{path}: keys {list(got)} where {list(expected)} were expected'
        for key in expected:
            found = first_difference(expected[key], got[key], f'{path}[{key!r}]')
            if found:
                return found
        return None
    if dataclasses.is_dataclass(expected) and not isinstance(expected, type):
        for field in dataclasses.fields(expected):
            if not field.compare:  # such as a cache (BinaryContent's `_identifier`)
                continue
            found = first_difference(getattr(expected, field.name), getattr(got, field.name), f'{path}.{field.name}')
            if found:
                return found
        return None if expected == got else f'{path}: {got!r:.200} != {expected!r:.200}'
    if isinstance(expected, BaseModel):
        return first_difference(dict(expected), dict(got), path)
    if expected != got:
        return f'{path or "value"}: {got!r:.200} where {expected!r:.200} was expected'
    return None


@dataclass
class Comparison:
    """Field-by-field comparison of two observations: how many values were compared, and what differed."""

    compared: int = 0
    differences: list[str] = dataclasses.field(default_factory=list[str])

    def check(self, what: str, expected: Any, got: Any) -> None:
        self.compared += 1
        found = first_difference(expected, got)
        if found:
            self.differences.append(f'{what}: {found}')

    def add(self, other: Comparison) -> None:
        self.compared += other.compared
        self.differences += other.differences


def compare(
    expected: dict[str, Any],
    got: dict[str, Any],
    *,
    same_run: bool,
    label: str = '',
    other_implementation: bool = False,
) -> Comparison:
    """Compare what a recovered run returned (`got`) with the uninterrupted one (`expected`), field by field.

    Always: the result's class, the output's class and value, the `message_history` the run was given (exactly,
    timestamps included: it is the caller's), and the usage. The messages the run created: exactly when both
    observations are of one durable run (`same_run`, e.g. a result read back from the journal), otherwise without
    the stamps of the run's clock and ids (see `_unstamped`). Across implementations (`other_implementation`), a result
    need only be an `AgentRunResult` (each package may return its own subclass).
    """
    prefix = f'{label}: ' if label else ''
    comparison = Comparison()
    if other_implementation:
        comparison.check(f'{prefix}is an AgentRunResult', True, got.get('run_result', False))
    else:
        comparison.check(f'{prefix}result class', expected['result_class'], got['result_class'])
    if 'messages' not in got:
        comparison.differences.append(f'{prefix}not a run result: {got["value"]}')
        return comparison
    comparison.check(f'{prefix}output type', type(expected['output']).__qualname__, type(got['output']).__qualname__)
    comparison.check(f'{prefix}output', expected['output'], got['output'])
    comparison.check(f'{prefix}message history as passed', history(), got['messages'][:HISTORY_LENGTH])
    new_expected, new_got = expected['messages'][HISTORY_LENGTH:], got['messages'][HISTORY_LENGTH:]
    if same_run:
        comparison.check(f'{prefix}messages of the run', new_expected, new_got)
    else:
        comparison.check(f'{prefix}messages of the run (unstamped)', _unstamped(new_expected), _unstamped(new_got))
    comparison.check(f'{prefix}usage', expected['usage'], got['usage'])
    return comparison


def own_data(observed: dict[str, Any], requester: str) -> Comparison:
    """A run's output and tool results are its own: every tool return and the output name `requester`."""
    comparison = Comparison()
    if 'messages' not in observed:
        comparison.differences.append(f'{requester}: not a run result: {observed["value"]}')
        return comparison
    output = observed['output']
    comparison.check(f'{requester}: output traveller', requester, getattr(output, 'traveller', output))
    returns = [
        part.content
        for message in observed['messages'][HISTORY_LENGTH:]
        for part in message.parts
        if isinstance(part, ToolReturnPart) and part.tool_name == 'lookup_fare'
    ]
    comparison.check(
        f'{requester}: tool results',
        [requester] * len(CITIES),
        [r.get('requester') if isinstance(r, dict) else r for r in returns],
    )
    return comparison
