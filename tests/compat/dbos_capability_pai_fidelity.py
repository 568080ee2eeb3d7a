"""The recovery-fidelity program on DBOS with PydanticAI 2.68's `DBOSDurability`: its in-process paths.

Usage: dbos_capability_pai_fidelity.py DB_URL DIR. The capability twin of `dbos_pai_fidelity.py`, and the same
paths as `engines/dbos_fidelity.py inprocess` in the capability form: the agent has the capability, the single run
is the workflow `fidelity.single` (id `ref`), run again with `SetWorkflowID`, its result read through
`DBOS.retrieve_workflow_async`; the pair is a user workflow running each run in a child workflow `fidelity.one`, and
that workflow's id run again. Units record into DIR/calls.log; the report goes to DIR/inprocess.report. As in
`dbos_pai_fidelity.py`, the tool runs in workflow code (2.68's convention; what a run returns is compared).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

import fidelity  # noqa: E402
from dbos import DBOS, SetWorkflowID  # noqa: E402
from durable_core.testing import DurableCallCounter  # noqa: E402
from pydantic_ai.durable_exec.dbos import DBOSDurability  # noqa: E402

db_url, directory = sys.argv[1:3]
DIR = Path(directory)
counter = DurableCallCounter(DIR / 'calls.log')
agent = fidelity.build_agent('fidelity_pai', counter.record, capabilities=[DBOSDurability()])


async def run_one(requester: str) -> Any:
    return await agent.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


@DBOS.workflow(name='fidelity.single')
async def single_workflow() -> Any:
    return await run_one(fidelity.SINGLE)


@DBOS.workflow(name='fidelity.one')
async def one_workflow(requester: str) -> Any:
    return await run_one(requester)


@DBOS.workflow(name='fidelity.pair')
async def pair_workflow() -> list[dict[str, Any]]:
    results = await asyncio.gather(*(one_workflow(requester) for requester in fidelity.PAIR))
    return [fidelity.observe(result) for result in results]


async def with_id(workflow_id: str, run: Callable[[], Awaitable[Any]]) -> Any:
    with SetWorkflowID(workflow_id):
        return await run()


def observed(run: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    async def make() -> Any:
        return fidelity.observe(await run())

    return make


async def main() -> None:
    DBOS.launch()
    report: dict[str, Any] = {}

    async def retrieved() -> Any:
        return await (await DBOS.retrieve_workflow_async('ref')).get_result()

    paths = {
        'reference': observed(lambda: with_id('ref', single_workflow)),
        'same_id': observed(lambda: with_id('ref', single_workflow)),
        'retrieved': observed(retrieved),
        'pair_reference': lambda: with_id('pair-ref', pair_workflow),
        'pair_same_id': lambda: with_id('pair-ref', pair_workflow),
    }
    for key, make in paths.items():
        await fidelity.report_path(report, key, make, counter.total)
    (DIR / 'inprocess.report').write_text(fidelity.dumps(report))


DBOS(config={'name': 'fidelity-pai-capability', 'system_database_url': db_url, 'log_level': 'WARNING'})
asyncio.run(main())
DBOS.destroy()
