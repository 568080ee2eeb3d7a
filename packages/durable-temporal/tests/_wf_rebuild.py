"""The agents and workflow of test_linear_history.py's rebuild tests: the worker's cache is lost or tampered with.

`forgetful` reads four pages of 900,000 bytes (a conversation over the server's 2 MB payload limit) and empties the
worker's cache at each request, as a worker that did not serve the run's last request has it: every later request
is rebuilt from the workflow's history. `clearing` empties the list of messages it is given.
"""

from __future__ import annotations

from durable_temporal import PydanticAIWorkflow, TemporalAgent, _history
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from temporalio import workflow

BIG_PAGE_BYTES = 900_000
PAGES = 4
SEEN: dict[str, list[int]] = {'forgetful': [], 'clearing': []}
"""Per agent, the messages each model request was given: their count, or the page bytes they hold (this process)."""


def _returns(messages: list[ModelMessage]) -> list[ToolReturnPart]:
    return [part for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]


def _next(messages: list[ModelMessage], pages: int) -> ModelResponse:
    done = len(_returns(messages))
    if done < pages:
        return ModelResponse(parts=[ToolCallPart('read_page', {'step': done}, tool_call_id=f'call-{done}')])
    return ModelResponse(parts=[TextPart(f'Read {done} pages.')])


def forgetful_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    SEEN['forgetful'].append(sum(len(str(part.content)) for part in _returns(messages)))
    _history._KNOWN.clear()  # pyright: ignore[reportPrivateUsage]
    return _next(messages, PAGES)


def clearing_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    SEEN['clearing'].append(len(messages))
    response = _next(messages, PAGES)
    messages.clear()
    return response


async def read_page(step: int) -> str:
    """Read one page."""
    return str(step) * BIG_PAGE_BYTES


forgetful = TemporalAgent(Agent(FunctionModel(forgetful_model), name='forgetful', tools=[read_page]))
clearing_agent = Agent(FunctionModel(clearing_model), name='clearing', tools=[read_page])
clearing = TemporalAgent(clearing_agent)


@workflow.defn
class ForgetfulWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [forgetful]

    @workflow.run
    async def run(self) -> str:
        return (await forgetful.run('Read the pages.')).output


@workflow.defn
class ClearingWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [clearing]

    @workflow.run
    async def run(self) -> str:
        return (await clearing.run('Read the pages.')).output
