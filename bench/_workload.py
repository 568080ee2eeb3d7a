"""The benchmarked agent and its variants: the same scripted model and tool, run plain, by us and by PydanticAI.

A run is described by its prompt, `steps=N payload=B`: the model answers N requests; each of the first N-1 asks
for one call of the tool `lookup`, the last one answers with text. So a run of N steps journals N model requests
and N-1 tool calls. With `payload=B`, every model response carries B bytes of text (next to its tool call) and
every tool result is B bytes of text; with `payload=0` both are a few bytes.

Variants are built lazily and only the ones asked for, so that a cold-start subprocess imports nothing of the
others (our package must not be charged for importing PydanticAI's `durable_exec`, nor the other way round).
Everything is built before `DBOS.launch()`: DBOS registers workflows and steps at decoration time.
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic_ai import Agent, Tool
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage, UsageLimits

PLAIN = 'plain'
OURS = 'ours'
OURS_LOCAL = 'ours_local'
OURS_CAPABILITY = 'ours_capability'
PAI_WRAPPER = 'pai_wrapper'
PAI_CAPABILITY = 'pai_capability'
DURABLE_VARIANTS = (OURS, PAI_WRAPPER, PAI_CAPABILITY)
ALL_VARIANTS = (PLAIN, *DURABLE_VARIANTS)
OUR_VARIANTS = (OURS, OURS_LOCAL, OURS_CAPABILITY)
"""Our variants: `ours` is the wrapper; `ours_local` is an opt-in form of it, on the engines that have one
(Temporal); `ours_capability` is the capability form (every engine)."""
COMPETITORS = (PAI_WRAPPER, PAI_CAPABILITY)

# Per engine: what each variant is (an engine's module may have its own `LABELS`, as bench._prefect does).
LABELS: dict[str, dict[str, str]] = {
    'dbos': {
        PLAIN: 'plain agent.run()',
        OURS: 'ours: durable_dbos.DBOSAgent',
        OURS_CAPABILITY: 'ours: durable_dbos.DBOSDurability',
        PAI_WRAPPER: 'pydantic-ai DBOSAgent (deprecated)',
        PAI_CAPABILITY: 'pydantic-ai DBOSDurability',
    },
    'temporal': {
        PLAIN: 'plain agent.run()',
        OURS: 'ours: durable_temporal.TemporalAgent',
        OURS_LOCAL: 'ours, the tool a local activity (opt-in)',
        OURS_CAPABILITY: 'ours: durable_temporal.TemporalDurability',
        PAI_WRAPPER: 'pydantic-ai TemporalAgent (deprecated)',
        PAI_CAPABILITY: 'pydantic-ai TemporalDurability',
    },
}

# Per engine: what each variant records for one run (the `journal` section lists it from the engine).
JOURNALS: dict[str, dict[str, str]] = {
    'dbos': {
        PLAIN: 'nothing (not durable)',
        OURS: 'workflow <name>.run: inputs = RunInputs JSON, output = AgentRunResult JSON in a pickled envelope '
        '(rebuild_run_result(agent name, JSON)); one step per model request (ModelResponse JSON text) and per tool '
        'call (tool_step_config=StepConfig(): outcome JSON text); step values wrapped by the DBOS default serializer '
        '(pickle)',
        OURS_CAPABILITY: 'our bench workflow wrapping agent.run() (pickled prompt and AgentRunResult); the steps '
        'of ours, under the same names and encoded alike (DBOSDurability(tool_step_config=StepConfig()) runs on a '
        'DBOSAgent built around the agent)',
        PAI_WRAPPER: 'workflow <name>.run: pickled run() arguments and AgentRunResult; one step per model request '
        '(pickled ModelResponse) and per tool call (the tool is a @DBOS.step: pickled return value)',
        PAI_CAPABILITY: 'our bench workflow wrapping agent.run() (pickled prompt and AgentRunResult); one step per '
        'model request (pickled ModelResponse) and per tool call (the tool is a @DBOS.step)',
    },
    'temporal': {
        PLAIN: 'nothing (not durable)',
        OURS: 'workflow bench_ours (PydanticAIWorkflow): an activity per model request (input: the messages so '
        'far, one JSON payload per value) and per tool call (arguments + carried run context); the workflow '
        'returns the output and the message count (the same in every variant)',
        OURS_LOCAL: 'as ours, but the tool call is a local activity: a marker in the history, no activity task',
        OURS_CAPABILITY: 'workflow bench_ours_capability running an Agent with TemporalDurability: the activities '
        'of ours, under the same names and encoded alike (it runs on a TemporalAgent built around the agent)',
        PAI_WRAPPER: 'workflow bench_pai_wrapper: an activity per model request and per tool call (the '
        "toolset's call_tool activity), Pydantic JSON payloads",
        PAI_CAPABILITY: 'workflow bench_pai_capability running an Agent with TemporalDurability: as the wrapper',
    },
}

UNLIMITED = UsageLimits(request_limit=None)
"""The usage limits of every run of every variant: PydanticAI's default of 50 requests a run would stop the growth
section's long runs (1,000 steps)."""

_PROMPT = re.compile(r'steps=(\d+) payload=(\d+)')
_WORDS = (
    'durable', 'agent', 'workflow', 'step', 'journal', 'replay', 'model', 'request', 'tool', 'call', 'result',
    'recover', 'crash', 'worker', 'engine', 'latency', 'throughput', 'sqlite', 'postgres', 'message', 'history',
    'token', 'budget', 'retry', 'timeout', 'schedule', 'event', 'handler',
)  # fmt: skip


def prompt(steps: int, payload: int = 0) -> str:
    """The prompt of a run of `steps` model requests with `payload` bytes of text per message."""
    return f'steps={steps} payload={payload}'


@functools.lru_cache(maxsize=256)
def text(size: int, seed: int) -> str:
    """About `size` bytes of varied words (compressible like prose, not like one repeated character)."""
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return ' '.join(words)[:size]


class Gate:
    """Holds every run at its last model request until `expected` runs are there (for the memory section)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.arrived = 0
        self.all_arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.all_arrived.set()
        await self.release.wait()


GATE: Gate | None = None
"""Set by the memory section only; `None` elsewhere."""


def _run_shape(messages: list[ModelMessage]) -> tuple[int, int]:
    first = messages[0]
    assert isinstance(first, ModelRequest)
    for part in first.parts:
        if isinstance(part, UserPromptPart) and isinstance(part.content, str):
            match = _PROMPT.search(part.content)
            if match:
                return int(match[1]), int(match[2])
    raise AssertionError('the benchmark prompt is `steps=N payload=B`')


async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The scripted model: a tool call per request until the last one, which answers with text."""
    steps, payload = _run_shape(messages)
    done = sum(isinstance(message, ModelResponse) for message in messages)
    # Usage of its own: without it FunctionModel estimates one by splitting the text of every message so far, per
    # request, a cost quadratic in the run's length (a third of a 300-step run's time) that no real model has.
    usage = RequestUsage(input_tokens=50 + done * (payload // 2 + 20), output_tokens=payload // 4 + 10)
    if done < steps - 1:
        parts: list[Any] = [TextPart(text(payload, done))] if payload else []
        parts.append(ToolCallPart('lookup', {'step': done, 'size': payload}, tool_call_id=f'call_{done}'))
        return ModelResponse(parts=parts, usage=usage)
    if GATE is not None:
        await GATE.wait()
    return ModelResponse(parts=[TextPart(text(payload, 10_000) if payload else 'done')], usage=usage)


async def lookup(step: int, size: int) -> str:
    """The tool: returns `size` bytes of text (or a few bytes)."""
    return text(size, 20_000 + step) if size else f'result {step}'


def model() -> FunctionModel:
    return FunctionModel(answer, model_name='scripted')


RunFn = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True)
class Variant:
    name: str
    run: RunFn
    """Run one agent run from outside any workflow and return its `AgentRunResult`."""
    workflow_name: str | None
    """The DBOS workflow name of its runs (`None`: not durable)."""


def _plain() -> Variant:
    agent = Agent(model(), name='bench_plain', tools=[Tool(lookup, name='lookup')])
    return Variant(PLAIN, functools.partial(agent.run, usage_limits=UNLIMITED), None)


def _ours() -> Variant:
    from durable_dbos import DBOSAgent, StepConfig

    # StepConfig() (DBOS's default step options) makes every function tool a step, as @DBOS.step does.
    agent = DBOSAgent(
        Agent(model(), name='bench_ours', tools=[Tool(lookup, name='lookup')]), tool_step_config=StepConfig()
    )
    return Variant(OURS, functools.partial(agent.run, usage_limits=UNLIMITED), 'bench_ours.run')


def _ours_capability() -> Variant:
    from dbos import DBOS
    from durable_dbos import DBOSDurability, StepConfig

    # The same options as `_ours`, in the capability form; run as 2.68's capability is (`_pai_capability`).
    agent = Agent(
        model(),
        name='bench_ours_capability',
        tools=[Tool(lookup, name='lookup')],
        capabilities=[DBOSDurability(tool_step_config=StepConfig())],
    )

    @DBOS.workflow(name='bench_ours_capability.run')
    async def run_workflow(user_prompt: str) -> Any:
        return await agent.run(user_prompt, usage_limits=UNLIMITED)

    return Variant(OURS_CAPABILITY, run_workflow, 'bench_ours_capability.run')


@functools.cache
def _pai_step_tool() -> Tool[Any]:
    from dbos import DBOS

    # PydanticAI's DBOS convention: a function tool is durable when it is a @DBOS.step.
    return Tool(DBOS.step(name='bench_pai.lookup')(lookup), name='lookup')


def _pai_wrapper() -> Variant:
    from pydantic_ai.durable_exec.dbos import DBOSAgent

    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # deprecated in favour of DBOSDurability; benchmarked as users still run it
        agent = DBOSAgent(Agent(model(), name='bench_pai_wrapper', tools=[_pai_step_tool()]))
    return Variant(PAI_WRAPPER, functools.partial(agent.run, usage_limits=UNLIMITED), 'bench_pai_wrapper.run')


def _pai_capability() -> Variant:
    from dbos import DBOS
    from pydantic_ai.durable_exec.dbos import DBOSDurability

    agent = Agent(model(), name='bench_pai_capability', tools=[_pai_step_tool()], capabilities=[DBOSDurability()])

    # The capability's documented use: call agent.run() inside your own workflow. It returns the whole
    # AgentRunResult, as both DBOSAgent wrappers do, so all variants journal the same result.
    @DBOS.workflow(name='bench_pai_capability.run')
    async def run_workflow(user_prompt: str) -> Any:
        return await agent.run(user_prompt, usage_limits=UNLIMITED)

    return Variant(PAI_CAPABILITY, run_workflow, 'bench_pai_capability.run')


_BUILDERS: dict[str, Callable[[], Variant]] = {
    PLAIN: _plain,
    OURS: _ours,
    OURS_CAPABILITY: _ours_capability,
    PAI_WRAPPER: _pai_wrapper,
    PAI_CAPABILITY: _pai_capability,
}


def build(names: tuple[str, ...] | list[str]) -> dict[str, Variant]:
    """Build the named variants (before `DBOS.launch()`)."""
    return {name: _BUILDERS[name]() for name in names}
