"""The agents and workflows of test_linear_history.py, run in-process or by `_linear_worker.py` in a subprocess.

Each agent reads one page per step with a tool, then answers. The model records, in `SETTINGS.counter`, each
request (`model_request:<step>`) and a digest of the messages it was given (`seen:<step>:<digest>`); the tool
records each call (`tool:<step>`). While `SETTINGS.block_at` is a step, that model request records
`blocked:<step>` and then hangs, so the test can kill its worker with the request in flight.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta

from durable_core.testing import DurableCallCounter
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent
from pydantic_ai.capabilities import ProcessHistory
from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage, UsageLimits
from temporalio import workflow

# Set, so that FunctionModel does not estimate it from the whole history at each request: quadratic in the steps.
USAGE = RequestUsage(input_tokens=100, output_tokens=10)


@dataclass
class Settings:
    counter: DurableCallCounter | None = None
    block_at: int | None = None
    never: threading.Event = field(default_factory=threading.Event)


SETTINGS = Settings()

LONG_STEPS = 30
"""The tool calls of the long run (test 1)."""

PROCESSED_STEPS = 14
"""The tool calls of the run whose history processor rewrites earlier messages (test 2)."""

_RUN_STAMPS = frozenset({'timestamp', 'run_id', 'conversation_id', 'request_timestamp', 'duration'})
"""What differs between two runs of the same agent: when they ran, how long a request took (PydanticAI 2.78's
`ModelResponse.request_timestamp` and `duration`), and their ids."""

# A stamp's key and value in JSON text: a string (escapes included), null or a number. Inside a JSON string a quote is
# escaped, so a string's text never matches.
_STAMP_FIELD = re.compile(
    rb'"(?:'
    + b'|'.join(sorted(key.encode() for key in _RUN_STAMPS))
    + rb')":(?:"[^"\\]*(?:\\.[^"\\]*)*"|null|[-0-9.eE+]+)'
)


def record(name: str) -> None:
    assert SETTINGS.counter is not None, 'the worker (or the test) sets SETTINGS.counter'
    SETTINGS.counter.record(name)


def seen_by_step(counter: DurableCallCounter) -> dict[int, Counter[str]]:
    """Per model request step, the digests of the messages the model was given, and how often each."""
    seen: dict[int, Counter[str]] = {}
    for name, count in counter.counts().items():
        if name.startswith('seen:'):
            _, step, digest = name.split(':')
            seen.setdefault(int(step), Counter())[digest] += count
    return seen


def named(counter: DurableCallCounter, prefix: str) -> dict[str, int]:
    """The counter's records whose names start with `prefix`, and how often each."""
    return {name: count for name, count in counter.counts().items() if name.startswith(prefix)}


def check_each_call_once(
    counter: DurableCallCounter, expected: dict[int, Counter[str]], killed_at: int, steps: int = LONG_STEPS
) -> None:
    """Every tool call ran once, every model request once but the one in flight at the kill (twice), and the model saw
    at every step exactly what the uninterrupted run's model saw (`expected`, from `seen_by_step`)."""
    assert named(counter, 'tool:') == {f'tool:{step}': 1 for step in range(steps)}
    assert named(counter, 'model_request:') == {
        f'model_request:{step}': 2 if step == killed_at else 1 for step in range(steps + 1)
    }
    assert seen_by_step(counter) == {
        step: Counter({digest: 2 if step == killed_at else 1 for digest in digests})
        for step, digests in expected.items()
    }


def page(step: int) -> str:
    """The deterministic text the tool returns at `step`: 2,048 bytes, different at every step."""
    return ''.join(hashlib.sha256(f'page {step}, line {line}'.encode()).hexdigest() for line in range(32))


def messages_digest(messages: list[ModelMessage]) -> str:
    """A digest of everything in `messages` except the timestamps and ids that differ from run to run.

    Their JSON, with each `"<stamp>":<value>` whose value is a string, null or a number taken out (at any depth, as a
    tool's arguments may hold one too; any other value stays, which can only make equal runs differ): the
    digest of a 1,000-message history is taken at every step of a long run, so it is done in C, not in Python.
    """
    return hashlib.sha256(_STAMP_FIELD.sub(b'', ModelMessagesTypeAdapter.dump_json(messages))).hexdigest()


def _step(messages: list[ModelMessage]) -> int:
    """The step of a request: one past the last page read (a history processor may have dropped earlier ones)."""
    last = messages[-1]
    returns = (
        [part for part in last.parts if isinstance(part, ToolReturnPart)] if isinstance(last, ModelRequest) else []
    )
    return int(returns[-1].tool_call_id.removeprefix('call-')) + 1 if returns else 0


def reader(steps: int) -> FunctionModel:
    """A model that reads pages 0..steps-1, one per request, then answers with a digest of the pages it saw."""

    async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        step = _step(messages)
        record(f'model_request:{step}')
        record(f'seen:{step}:{messages_digest(messages)}')
        if SETTINGS.block_at == step:
            record(f'blocked:{step}')
            await _wait_forever()
        if step < steps:
            return ModelResponse(
                parts=[ToolCallPart('read_page', {'step': step}, tool_call_id=f'call-{step}')], usage=USAGE
            )
        pages = [
            str(part.content)
            for message in messages
            for part in getattr(message, 'parts', [])
            if isinstance(part, ToolReturnPart)
        ]
        return ModelResponse(
            parts=[TextPart(f'{len(pages)} pages: {hashlib.sha256("".join(pages).encode()).hexdigest()}')],
            usage=USAGE,
        )

    return FunctionModel(respond, model_name='reader')


async def _wait_forever() -> None:
    import anyio.to_thread

    await anyio.to_thread.run_sync(SETTINGS.never.wait, abandon_on_cancel=True)


async def read_page(step: int) -> str:
    record(f'tool:{step}')
    return page(step)


async def keep_first_and_last(messages: list[ModelMessage]) -> list[ModelMessage]:
    """Rewrites earlier messages: from step 4, keeps the first request and the last 4 messages; from step 8, also
    rewrites that first request (so no message of the previous request starts this one)."""
    step = _step(messages)
    if step < 4:
        return messages
    first = messages[0]
    if step >= 8 and isinstance(first, ModelRequest):
        prompt = first.parts[0]
        assert isinstance(prompt, UserPromptPart)
        first = replace(first, parts=[replace(prompt, content=f'Read the pages; step {step}.')])
    return [first, *messages[-4:]]


# A short attempt timeout, so the server hands the killed worker's model request to the new worker soon.
SHORT_ATTEMPTS: workflow.ActivityConfig = {'start_to_close_timeout': timedelta(seconds=3)}

long_agent = Agent(reader(LONG_STEPS), name='linear_long', tools=[read_page])
long_temporal = TemporalAgent(long_agent, activity_config=SHORT_ATTEMPTS)

auto_agent = Agent(reader(LONG_STEPS), name='linear_auto', tools=[read_page])
auto_temporal = TemporalAgent(auto_agent, activity_config=SHORT_ATTEMPTS, continue_as_new='auto')
"""The long agent, run in a child workflow that continues as new by itself (test_continue_as_new.py)."""

THOUSAND_STEPS = 1000
UNLIMITED = UsageLimits(request_limit=None)
thousand_agent = Agent(reader(THOUSAND_STEPS), name='linear_thousand', tools=[read_page])
thousand_temporal = TemporalAgent(thousand_agent, activity_config=SHORT_ATTEMPTS, continue_as_new='auto')
"""The 1,000-call agent, continuing as new by itself (test_continue_as_new.py's kill trial)."""

processed_agent = Agent(
    reader(PROCESSED_STEPS),
    name='linear_processed',
    tools=[read_page],
    capabilities=[ProcessHistory(keep_first_and_last)],
)
processed_temporal = TemporalAgent(processed_agent)


@workflow.defn
class LongRunWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [long_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await long_temporal.run(prompt)).output


@workflow.defn
class AutoContinuedLongRunWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [auto_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await auto_temporal.run(prompt)).output


@workflow.defn
class ThousandStepWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [thousand_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await thousand_temporal.run(prompt, usage_limits=UNLIMITED)).output


@workflow.defn
class ProcessedHistoryWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [processed_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await processed_temporal.run(prompt)).output
