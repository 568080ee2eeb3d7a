"""`PydanticAIWorkflow`: the base class that lists a workflow's agents for `PydanticAIPlugin`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pydantic_ai.agent import AbstractAgent

    from ._agent import TemporalAgent

__all__ = ['PydanticAIWorkflow']


class PydanticAIWorkflow:
    """Base of workflow classes that run `TemporalAgent`s, or agents with `TemporalDurability`.

    List the agents in `__pydantic_ai_agents__` (either form); `PydanticAIPlugin` registers their activities on every
    worker that runs the workflow, once each, however many workflows list an agent.

    Example:
        ```python
        import asyncio
        import os
        import uuid

        from pydantic_ai import Agent
        from temporalio import workflow
        from temporalio.client import Client
        from temporalio.worker import Worker

        from durable_temporal import PydanticAIPlugin, PydanticAIWorkflow, TemporalAgent, TemporalDurability

        # OpenAI when OPENAI_API_KEY is set; otherwise PydanticAI's TestModel ('test') answers, offline.
        model = 'openai:gpt-6.1-sol' if os.environ.get('OPENAI_API_KEY') else 'test'
        researcher = TemporalAgent(Agent(model, name='researcher'))  # the wrapper form
        writer = Agent(model, name='writer', capabilities=[TemporalDurability()])  # the capability form


        @workflow.defn
        class ArticleWorkflow(PydanticAIWorkflow):
            __pydantic_ai_agents__ = [researcher, writer]  # the worker registers both agents' activities

            @workflow.run
            async def run(self, topic: str) -> str:
                notes = (await researcher.run(f'Find three facts about {topic}.')).output
                return (await writer.run(f'Write a paragraph from these notes: {notes}')).output


        async def main() -> None:
            address = os.environ.get('TEMPORAL_ADDRESS', 'localhost:7233')
            client = await Client.connect(address, plugins=[PydanticAIPlugin()])
            async with Worker(client, task_queue='articles', workflows=[ArticleWorkflow]):
                output = await client.execute_workflow(
                    ArticleWorkflow.run, 'Lisbon', id=f'article-{uuid.uuid4()}', task_queue='articles'
                )
            print(output)


        if __name__ == '__main__':  # the workflow sandbox imports this module again: guard the entry point
            asyncio.run(main())
        ```
    """

    __pydantic_ai_agents__: ClassVar[Sequence[TemporalAgent[Any, Any] | AbstractAgent[Any, Any]]] = ()
