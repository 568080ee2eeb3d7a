"""`GeographyWorkflow` changed incompatibly: its tool runs in the workflow instead of an activity."""

from __future__ import annotations

from _wf_agent import Place, geo_agent
from durable_temporal import PydanticAIWorkflow, TemporalAgent
from temporalio import workflow

changed_temporal = TemporalAgent(geo_agent, tool_activity_config={'agent': {'get_weather': False}})


@workflow.defn(name='GeographyWorkflow')
class ChangedGeographyWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [changed_temporal]

    @workflow.run
    async def run(self, prompt: str) -> str:
        return (await changed_temporal.run(prompt, deps=Place('Mexico City'))).output
