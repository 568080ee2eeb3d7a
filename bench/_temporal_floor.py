"""The server's floor: a bare workflow running the same number of no-op activities as an agent run, no agent.

What an agent run on Temporal cannot go below on this server: every variant's overhead includes it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name='bench_floor.noop')
async def noop(step: int) -> int:
    return step


@workflow.defn(name='bench_floor')
class FloorWorkflow:
    @workflow.run
    async def run(self, activities: int) -> int:
        for step in range(activities):
            await workflow.execute_activity(noop, step, start_to_close_timeout=timedelta(seconds=60))
        return activities
