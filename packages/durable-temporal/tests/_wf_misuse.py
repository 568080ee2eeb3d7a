"""The agents and workflow of test_misuse.py: each case misuses a TemporalAgent inside a workflow."""

from __future__ import annotations

from durable_temporal import PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent, BinaryImage
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset
from pydantic_graph import GraphBuilder, StepContext
from temporalio import workflow


def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(parts=[TextPart('fine')])


misuse_agent = Agent(FunctionModel(answer, model_name='answer'), name='misuse')
misuse_temporal = TemporalAgent(misuse_agent)


class Unserializable:
    def __init__(self) -> None:
        self.callback = len


image_temporal = TemporalAgent(
    Agent(FunctionModel(answer, model_name='answer'), name='misuse_image', output_type=BinaryImage)
)


async def unserializable_result() -> object:
    """A tool whose result cannot be journaled: its activity raises `UnserializableError`."""
    return Unserializable()


tool_result_temporal = TemporalAgent(Agent(TestModel(), name='misuse_tool_result', tools=[unserializable_result]))

_graph_builder = GraphBuilder(input_type=int, output_type=int)


@_graph_builder.step
async def _double(ctx: StepContext[None, None, int]) -> int:
    return 2 * ctx.inputs


_graph_builder.add(_graph_builder.edge_from(_graph_builder.start_node).to(_double))
_graph_builder.add(_graph_builder.edge_from(_double).to(_graph_builder.end_node))
doubling_graph = _graph_builder.build()
"""A pydantic_graph graph: its `run_sync()` cannot drive a workflow's event loop (`UnsupportedEventLoopError`)."""

# Its one answer is 3 MB, over the server's 2 MB payload limit; a failed attempt would be retried 10 times.
oversize_temporal = TemporalAgent(Agent(TestModel(custom_output_text='x' * 3_000_000), name='misuse_oversize'))


async def _handler(ctx: object, events: object) -> None:
    return None


@workflow.defn
class MisuseWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [misuse_temporal, image_temporal, oversize_temporal, tool_result_temporal]

    @workflow.run
    async def run(self, case: str) -> str:
        if case == 'ok':
            return (await misuse_temporal.run('hi')).output
        if case == 'event_handler':
            await misuse_temporal.run('hi', event_stream_handler=_handler)
        elif case == 'run_sync':
            misuse_temporal.run_sync('hi')
        elif case == 'run_stream':
            async with misuse_temporal.run_stream('hi'):
                pass
        elif case == 'run_stream_events':
            misuse_temporal.run_stream_events('hi')
        elif case == 'override_model':
            with misuse_temporal.override(model=TestModel()):
                pass
        elif case == 'override_toolsets':
            with misuse_temporal.override(toolsets=[FunctionToolset(id='late')]):  # one the agent does not have
                pass
        elif case == 'unregistered_model':
            await misuse_temporal.run('hi', model=TestModel())
        elif case == 'unserializable_deps':
            await misuse_temporal.run('hi', deps=Unserializable())
        elif case == 'headers_in_settings':
            await misuse_temporal.run('hi', model_settings={'extra_headers': {'Authorization': 'Bearer sk-secret'}})
        elif case == 'oversize_output':
            await oversize_temporal.run('hi')
        elif case == 'oversize_input':
            await misuse_temporal.run('hi', message_history=[ModelRequest.user_text_prompt('x' * 3_000_000)])
        elif case == 'graph_run_sync':
            return str(doubling_graph.run_sync(inputs=2))
        elif case == 'tool_result':
            await tool_result_temporal.run('hi')
        elif case == 'image_output':
            await image_temporal.run('draw')
        return 'no error'
