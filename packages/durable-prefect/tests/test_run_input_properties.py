"""Property test: generated run arguments survive the real Prefect server's journal and reach the run unchanged.

Each example runs one agent twice with the same generated arguments: as a durable run (a flow run on the local
server) and as a plain PydanticAI run in this process. Then:

- the flow run's parameters, as the server stores them, decode to exactly the arguments passed;
- the model and the tool of the durable run saw exactly what they saw in the plain run (messages, model settings,
  instructions, deps, metadata); the only values allowed to differ are the timestamps the two runs stamped
  themselves, which are masked in both.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from durable_prefect import PrefectAgent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prefect.context import TaskRunContext
from pydantic_ai import Agent, RunContext, UsageLimits
from pydantic_ai.messages import (
    BinaryContent,
    BinaryImage,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RunUsage
from test_run_inputs import stored_arguments

INSPECT_CALL_ID = 'inspect-call-of-this-run'  # longer than any generated id, so no history holds it
_STAMPED_BY_THE_RUN = datetime(2000, 1, 1, tzinfo=UTC)
"""Generated timestamps are earlier; a timestamp at or after it was stamped by a run and is masked."""
_MASK = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Profile:
    """The agent's `deps_type`: dates, lists, nested data."""

    name: str
    born: date
    tags: list[str]
    scores: dict[str, float]


# --- strategies ----------------------------------------------------------------------------------------------------
# Written here in a minimal form: durable-core has no shared hypothesis strategies for run arguments yet.

texts = st.text(max_size=16)
names = st.text(alphabet='abcdefghijklmnopqrstuvwxyz0123456789_', min_size=1, max_size=10)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
timestamps = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(1999, 12, 31), timezones=st.just(UTC)
)  # before _STAMPED_BY_THE_RUN
floats = st.floats(allow_nan=False)
json_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53) | floats | texts
json_data = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=6,
)
# Where a value is typed `Any` (tool arguments and returns, metadata), dates come back as dates too.
json_values = st.recursive(
    json_scalars | dates,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=6,
)
images = st.builds(lambda data: BinaryContent(data, media_type='image/png'), st.binary(max_size=16)) | st.builds(
    lambda data: BinaryImage(data, media_type='image/jpeg'), st.binary(max_size=16)
)
user_contents = st.lists(texts | images, min_size=1, max_size=3)


@st.composite
def exchanges(draw: st.DrawFn, index: int) -> list[ModelMessage]:
    """A request and its answer, with a tool call and its return in between, or not."""
    request_parts: list[Any] = [UserPromptPart(draw(texts | user_contents), timestamp=draw(timestamps))]
    if draw(st.booleans()):
        request_parts.insert(0, SystemPromptPart(draw(texts), timestamp=draw(timestamps)))
    messages: list[ModelMessage] = [ModelRequest(parts=request_parts, timestamp=draw(st.none() | timestamps))]
    if draw(st.booleans()):
        call_id = f'call-{index}'
        tool = draw(names)
        messages.append(
            ModelResponse(
                parts=[ToolCallPart(tool, draw(st.dictionaries(names, json_values, max_size=2)), tool_call_id=call_id)],
                timestamp=draw(timestamps),
            )
        )
        content = draw(json_values | images | st.dictionaries(names, json_values | images, max_size=2))
        messages.append(
            ModelRequest(parts=[ToolReturnPart(tool, content, tool_call_id=call_id, timestamp=draw(timestamps))])
        )
    answer: list[Any] = [TextPart(draw(texts))]
    if draw(st.booleans()):
        answer.insert(0, ThinkingPart(draw(texts), signature=draw(st.none() | names)))
    messages.append(ModelResponse(parts=answer, timestamp=draw(timestamps), model_name=draw(st.none() | names)))
    return messages


@st.composite
def message_histories(draw: st.DrawFn) -> list[ModelMessage] | None:
    count = draw(st.integers(min_value=0, max_value=3))
    if count == 0 and draw(st.booleans()):
        return None
    return [message for index in range(count) for message in draw(exchanges(index))]


profiles = st.builds(
    Profile,
    name=texts,
    born=dates,
    tags=st.lists(texts, max_size=3),
    scores=st.dictionaries(names, floats, max_size=3),
)
large_limits = st.none() | st.integers(min_value=10**7, max_value=10**9)
usage_limits = st.none() | st.builds(
    UsageLimits,
    request_limit=st.none() | st.integers(min_value=10, max_value=1000),
    tool_calls_limit=st.none() | st.integers(min_value=5, max_value=1000),
    input_tokens_limit=large_limits,
    output_tokens_limit=large_limits,
    total_tokens_limit=large_limits,
)
model_settings = st.none() | st.fixed_dictionaries(
    {},
    optional={
        'max_tokens': st.integers(min_value=1, max_value=10**5),
        'temperature': st.floats(min_value=0, max_value=2),
        'top_p': st.floats(min_value=0, max_value=1),
        'seed': st.integers(min_value=0, max_value=2**31),
        'stop_sequences': st.lists(texts, max_size=2),
        'parallel_tool_calls': st.booleans(),
        'extra_body': json_data,  # model settings refuse dates, with an error naming the fix
    },
)
run_arguments = st.fixed_dictionaries(
    {
        'user_prompt': texts | user_contents,
        'message_history': message_histories(),
        'deps': profiles,
        'usage_limits': usage_limits,
        'usage': st.none() | st.builds(RunUsage, requests=st.integers(0, 3), input_tokens=st.integers(0, 100)),
        'model_settings': model_settings,
        'metadata': st.none() | st.dictionaries(names, json_values, max_size=3),
        'instructions': st.none() | texts,
        'timeout': st.none() | st.floats(min_value=60, max_value=3600),
    }
)


# --- the agent -------------------------------------------------------------------------------------------------------


@dataclass
class Seen:
    """What the model and the tool of one run saw."""

    requests: list[tuple[list[ModelMessage], Any, str | None]] = dataclasses.field(default_factory=list)
    tool_contexts: list[tuple[Profile, Any]] = dataclasses.field(default_factory=list)
    flow_run_ids: set[UUID] = dataclasses.field(default_factory=set)


class Recorder:
    """The agent's model and tool record into `seen`, which each run replaces."""

    seen = Seen()


def _model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    Recorder.seen.requests.append((copy.deepcopy(messages), copy.deepcopy(info.model_settings), info.instructions))
    last = messages[-1]
    if any(getattr(part, 'tool_call_id', None) == INSPECT_CALL_ID for part in last.parts):
        return ModelResponse(parts=[TextPart('inspected')])
    return ModelResponse(parts=[ToolCallPart('inspect', {}, tool_call_id=INSPECT_CALL_ID)])


agent = Agent(FunctionModel(_model, model_name='recorder'), name='properties', deps_type=Profile)


@agent.tool
def inspect(ctx: RunContext[Profile]) -> str:
    Recorder.seen.tool_contexts.append((copy.deepcopy(ctx.deps), copy.deepcopy(ctx.metadata)))
    task_run = TaskRunContext.get()
    if task_run is not None and task_run.task_run.flow_run_id is not None:
        Recorder.seen.flow_run_ids.add(task_run.task_run.flow_run_id)
    return 'ok'


prefect_agent = PrefectAgent(agent)


def _mask_run_timestamps(value: Any) -> Any:
    """Mask, in place, every timestamp the run stamped itself (generated ones are earlier)."""
    if isinstance(value, list | tuple):
        for item in value:  # pyright: ignore[reportUnknownVariableType]
            _mask_run_timestamps(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if isinstance(item, datetime) and item.tzinfo is not None and item >= _STAMPED_BY_THE_RUN:
                object.__setattr__(value, field.name, _MASK)
            else:
                _mask_run_timestamps(item)
    return value


async def _run(target: Agent[Profile, str] | PrefectAgent[Profile, str], arguments: dict[str, Any]) -> Seen:
    Recorder.seen = Seen()
    result = await target.run(**arguments)
    assert result.output == 'inspected'
    return _mask_run_timestamps(Recorder.seen)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(arguments=run_arguments)
async def test_generated_run_arguments_round_trip_through_the_server(arguments: dict[str, Any]) -> None:
    # Ids a plain run would make up at random; a durable run derives its own. Given, both runs use them.
    arguments = {**arguments, 'run_id': str(uuid4()), 'conversation_id': str(uuid4())}
    passed = copy.deepcopy(arguments)

    # Each run gets its own copy: a plain run adds its usage to the `usage` it was given, in place.
    plain = await _run(agent, copy.deepcopy(arguments))
    durable = await _run(prefect_agent, copy.deepcopy(arguments))

    assert durable.requests == plain.requests
    assert durable.tool_contexts == plain.tool_contexts
    assert [deps for deps, _ in durable.tool_contexts] == [passed['deps']]
    [flow_run_id] = durable.flow_run_ids
    stored = await stored_arguments(prefect_agent, flow_run_id)
    assert {name: stored[name] for name in passed} == passed
    assert type(stored['deps']) is Profile
