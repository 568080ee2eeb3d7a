"""The replay-stable identity of an agent's flow run, and the per-run state of the units in it.

Prefect keeps a flow run's id when the flow retries or a deployment run is rerun, but a subflow
gets a new flow run when its parent flow retries. So the identity of a subflow run is the
identity of its parent flow run plus the key of the parent's task run that tracks the subflow;
Prefect reuses that task run (same flow run, task key and dynamic key) on the parent's retry.
"""

from __future__ import annotations

from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.context import FlowRunContext

from ._cache import ConversationHashes

__all__ = ['CURRENT_SCOPE', 'FlowScope', 'next_in_attempt', 'stable_flow_identity']


@dataclass
class FlowScope:
    """The state of one attempt of an agent's flow run."""

    agent: object
    """The `PrefectAgent` whose flow this is."""
    flow_run_id: UUID
    """The flow run, to tell its code apart from flows nested in it."""
    identity: str
    """The replay-stable identity of the flow run."""
    runs: int = 0
    """Agent runs started in this attempt, in order."""
    run_scope: str | None = None
    """The cache scope of every unit in the scope, when it holds one agent run whose id is not replay-stable (a
    `PrefectDurability` run in the user's flow); otherwise each unit's is its run's id."""
    occurrences: Counter[tuple[str, str]] = field(default_factory=Counter[tuple[str, str]])
    """How many units with the same (run id, inputs hash) were called in this attempt."""
    conversations: dict[tuple[str, str], ConversationHashes] = field(
        default_factory=dict[tuple[str, str], ConversationHashes]
    )
    """The hashes of each run's conversation so far, per kind of unit (`ConversationHashes.of`)."""

    def next_occurrence(self, run_scope: str, inputs_hash: str) -> int:
        """Count one more unit with these inputs in this run, and return how many came before it."""
        key = (run_scope, inputs_hash)
        occurrence = self.occurrences[key]
        self.occurrences[key] = occurrence + 1
        return occurrence


CURRENT_SCOPE: ContextVar[FlowScope | None] = ContextVar('durable_prefect_scope', default=None)


async def stable_flow_identity(flow_run: FlowRun) -> str:
    """The identity of `flow_run` that survives retries of it and of the flows it is nested in."""
    if flow_run.parent_task_run_id is None:
        return str(flow_run.id)  # no API call for the common case
    parts: list[str] = []
    current = flow_run
    async with get_client() as client:
        while current.parent_task_run_id is not None:
            tracking = await client.read_task_run(current.parent_task_run_id)
            parts.append(f'{tracking.task_key}#{tracking.dynamic_key}')
            if tracking.flow_run_id is None:  # a subflow called from a task outside any flow
                parts.append(str(tracking.id))
                break
            current = await client.read_flow_run(tracking.flow_run_id)
        else:
            parts.append(str(current.id))
    return '/'.join(reversed(parts))


def next_in_attempt(context: FlowRunContext, key: str) -> int:
    """How many times `key` was counted before in this attempt of the flow run, counting this one.

    Counted in the attempt's counter of task calls: Prefect starts it afresh on each attempt, so a retry finds the
    same numbers, in the same order.
    """
    previous = context.task_run_dynamic_keys.get(key)
    occurrence = previous + 1 if isinstance(previous, int) else 0
    context.task_run_dynamic_keys[key] = occurrence
    return occurrence
