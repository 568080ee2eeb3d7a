"""The conformance scenarios: written once, run on every engine and on a plain `agent.run()`.

Each scenario builds a fresh agent (named after the scenario and the engine, so names never collide)
and drives it through a `run` callable that the engine driver supplies: a durable run on an engine,
or the plain agent. Every model request and tool call appends to `calls`, at its source, so the
sequence can be compared across engines.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from durable_core.testing import ScriptedModel, Step, ToolCall
from durable_core.testing.mcp_calculator import MCP_CALCULATOR_PATH
from pydantic import BaseModel
from pydantic_ai import (
    Agent,
    DeferredToolRequests,
    DeferredToolResults,
    ModelRetry,
    RunContext,
    UsageLimitExceeded,
    UsageLimits,
)
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models import Model
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset

RunFn = Callable[..., Awaitable[Any]]
"""`await run(prompt, **run_kwargs)` -> AgentRunResult: a durable run on an engine, or a plain run."""


CapabilitiesFor = Callable[[dict[str, Model]], Sequence[AbstractCapability[Any]]]
"""Given a scenario's registered models (`Built.models`), the extra capabilities its agent is built with."""

CAPABILITIES: CapabilitiesFor | None = None
"""Set by a driver of the capability form (e.g. `[DBOSDurability(...)]`): every scenario agent gets these at
construction, through `scenario_agent`. `None` (the wrapper form, the plain run): an agent as the scenario writes it."""


def scenario_agent(
    model: Model, *, name: str, models: dict[str, Model] | None = None, **options: Any
) -> Agent[Any, Any]:
    """`Agent(model, name=name, **options)`, plus the driver's `CAPABILITIES`: every scenario builds its agent here."""
    extra = list(CAPABILITIES(models or {})) if CAPABILITIES is not None else []
    return Agent(model, name=name, capabilities=extra or None, **options)


@dataclass
class Built:
    """A scenario's agent, the models it registers for run-time selection, and how it is driven."""

    agent: Agent[Any, Any]
    drive: Callable[[RunFn], Awaitable[Any]]
    models: dict[str, Model] = field(default_factory=dict[str, Model])


@dataclass
class Scenario:
    name: str
    build: Callable[[str, list[str]], Built]
    """Build the agent named `agent_name`, recording calls into the list."""


def _recording(
    steps: Sequence[Step | str | ToolCall | list[ToolCall]], calls: list[str], label: str = 'model'
) -> ScriptedModel:
    def mark(index: int) -> Callable[[], None]:
        return lambda: calls.append(f'{label}:{index}')

    marked: list[Step] = []
    for index, step in enumerate(steps, start=1):
        if isinstance(step, str):
            step = Step(text=step)
        elif isinstance(step, ToolCall):
            step = Step(tool_calls=[step])
        elif isinstance(step, list):
            step = Step(tool_calls=step)
        marked.append(Step(text=step.text, tool_calls=step.tool_calls, before=mark(index)))
    return ScriptedModel(marked, position='history')


async def _once(run: RunFn, prompt: str, **kwargs: Any) -> Any:
    return (await run(prompt, **kwargs)).output


def plain_answer(name: str, calls: list[str]) -> Built:
    agent = scenario_agent(_recording(['The capital of Mexico is Mexico City.'], calls), name=name)
    return Built(agent, lambda run: _once(run, 'What is the capital of Mexico?'))


def tool_call(name: str, calls: list[str]) -> Built:
    agent = scenario_agent(
        _recording([ToolCall('get_capital', {'country': 'Mexico'}, 't1'), 'Mexico City.'], calls), name=name
    )

    @agent.tool_plain
    def get_capital(country: str) -> str:
        calls.append(f'tool:get_capital:{country}')
        return 'Mexico City'

    return Built(agent, lambda run: _once(run, 'Capital of Mexico?'))


def parallel_tool_calls(name: str, calls: list[str]) -> Built:
    squares = [ToolCall('square', {'n': n}, f'sq{n}') for n in range(10)]
    agent = scenario_agent(_recording([squares, 'Squared ten numbers.'], calls), name=name)

    @agent.tool_plain
    async def square(n: int) -> int:
        calls.append(f'tool:square:{n}')
        return n * n

    async def drive(run: RunFn) -> Any:
        result = await run('Square 0..9')
        returns = [
            part.content
            for message in result.all_messages()
            for part in message.parts
            if part.part_kind == 'tool-return'
        ]
        return {'output': result.output, 'returns': sorted(returns)}

    return Built(agent, drive)


def model_retry_from_tool(name: str, calls: list[str]) -> Built:
    agent = scenario_agent(
        _recording(
            [ToolCall('divide', {'a': 1, 'b': 0}, 'd1'), ToolCall('divide', {'a': 1, 'b': 2}, 'd2'), '0.5'], calls
        ),
        name=name,
    )

    @agent.tool_plain
    def divide(a: float, b: float) -> float:
        calls.append(f'tool:divide:{a}/{b}')
        if b == 0:
            raise ModelRetry('b must not be zero')
        return a / b

    return Built(agent, lambda run: _once(run, 'One half?'))


class City(BaseModel):
    name: str
    population_millions: float


def structured_output_with_validation_retry(name: str, calls: list[str]) -> Built:
    bad = ToolCall('final_result', {'name': 'Mexico City'}, 'o1')  # population missing: fails validation
    good = ToolCall('final_result', {'name': 'Mexico City', 'population_millions': 9.2}, 'o2')
    agent = scenario_agent(_recording([bad, good], calls), name=name, output_type=City)

    async def drive(run: RunFn) -> Any:
        return (await run('Biggest city?')).output.model_dump()

    return Built(agent, drive)


def mcp_server(name: str, calls: list[str]) -> Built:
    from fastmcp.client import Client
    from fastmcp.client.transports import PythonStdioTransport
    from pydantic_ai.mcp import MCPToolset

    toolset = MCPToolset(
        Client(PythonStdioTransport(MCP_CALCULATOR_PATH, python_cmd=sys.executable), init_timeout=60), id='calc'
    )
    agent = scenario_agent(
        _recording([ToolCall('add', {'a': 2, 'b': 3}, 'm1'), 'Five.'], calls), name=name, toolsets=[toolset]
    )
    return Built(agent, lambda run: _once(run, 'Add 2 and 3'))


def dynamic_toolset(name: str, calls: list[str]) -> Built:
    agent = scenario_agent(_recording([ToolCall('greet', {}, 'g1'), 'Greeted.'], calls), name=name, deps_type=str)

    @agent.toolset(id='greetings')
    def greetings(ctx: RunContext[str]) -> AbstractToolset[str]:
        toolset = FunctionToolset[str]()

        @toolset.tool
        def greet(inner: RunContext[str]) -> str:
            calls.append(f'tool:greet:{inner.deps}')
            return f'Hello {inner.deps}'

        return toolset

    return Built(agent, lambda run: _once(run, 'Greet me', deps='Ada'))


def deferred_tools_with_approval(name: str, calls: list[str]) -> Built:
    agent = scenario_agent(
        _recording([ToolCall('delete', {'path': '/tmp/a'}, 'del'), 'Deleted.'], calls),
        name=name,
        output_type=[str, DeferredToolRequests],
    )

    @agent.tool_plain(requires_approval=True)
    def delete(path: str) -> str:
        calls.append(f'tool:delete:{path}')
        return 'deleted'

    async def drive(run: RunFn) -> Any:
        first = await run('Delete /tmp/a')
        assert isinstance(first.output, DeferredToolRequests)
        pending = [call.tool_call_id for call in first.output.approvals]
        second = await run(
            None,
            message_history=first.all_messages(),
            deferred_tool_results=DeferredToolResults(approvals=dict.fromkeys(pending, True)),
        )
        return {'pending': pending, 'output': second.output}

    return Built(agent, drive)


class Customer(BaseModel):
    name: str
    tier: str


def pydantic_deps(name: str, calls: list[str]) -> Built:
    agent = scenario_agent(
        _recording([ToolCall('discount', {}, 'c1'), 'Ten percent.'], calls), name=name, deps_type=Customer
    )

    @agent.tool
    def discount(ctx: RunContext[Customer]) -> str:
        calls.append(f'tool:discount:{ctx.deps.name}:{ctx.deps.tier}')
        return '10%' if ctx.deps.tier == 'gold' else '0%'

    return Built(agent, lambda run: _once(run, 'My discount?', deps=Customer(name='Ada', tier='gold')))


def message_history(name: str, calls: list[str]) -> Built:
    agent = scenario_agent(_recording(['Hello Ada.', 'Your name is Ada.'], calls), name=name)

    async def drive(run: RunFn) -> Any:
        first = await run('My name is Ada.')
        second = await run('What is my name?', message_history=first.all_messages())
        return {'first': first.output, 'second': second.output, 'messages': len(second.all_messages())}

    return Built(agent, drive)


def usage_limits(name: str, calls: list[str]) -> Built:
    agent = scenario_agent(_recording([ToolCall('noop', {}, 'n1'), 'Never reached.'], calls), name=name)

    @agent.tool_plain
    def noop() -> str:
        calls.append('tool:noop')
        return 'ok'

    async def drive(run: RunFn) -> Any:
        try:
            await run('Go', usage_limits=UsageLimits(request_limit=1))
        except UsageLimitExceeded as error:
            return {'error': type(error).__name__}
        return {'error': None}

    return Built(agent, drive)


def runtime_model_selection(name: str, calls: list[str]) -> Built:
    models: dict[str, Model] = {'fast': _recording(['From the fast model.'], calls, label='fast')}
    agent = scenario_agent(_recording(['From the default model.'], calls), name=name, models=models)

    async def drive(run: RunFn) -> Any:
        return {'default': (await run('Hi')).output, 'fast': (await run('Hi', model='fast')).output}

    return Built(agent, drive, models=models)


SCENARIOS = [
    Scenario('plain_answer', plain_answer),
    Scenario('tool_call', tool_call),
    Scenario('parallel_tool_calls', parallel_tool_calls),
    Scenario('model_retry_from_tool', model_retry_from_tool),
    Scenario('structured_output_with_validation_retry', structured_output_with_validation_retry),
    Scenario('mcp_server', mcp_server),
    Scenario('dynamic_toolset', dynamic_toolset),
    Scenario('deferred_tools_with_approval', deferred_tools_with_approval),
    Scenario('pydantic_deps', pydantic_deps),
    Scenario('message_history', message_history),
    Scenario('usage_limits', usage_limits),
    Scenario('runtime_model_selection', runtime_model_selection),
]


def summarise_calls(calls: list[str]) -> list[str]:
    """The call sequence with parallel calls of one step in a canonical order."""
    return sorted(calls) if any(call.startswith('tool:square') for call in calls) else list(calls)
