"""The recovery-fidelity program on DBOS with PydanticAI 2.68's `durable_exec`, in either form: its in-process paths.

Usage: dbos_pai_fidelity.py FORM DB_URL DIR, where FORM is `wrapper` (`DBOSAgent`) or `capability`
(`DBOSDurability` on the agent). The same paths as `engines/dbos_fidelity.py inprocess`, in the same form: the
reference run (workflow id `ref`; the wrapper's own workflow, or the app's `fidelity.single` with the capability),
the same id run again with `SetWorkflowID`, its result through `DBOS.retrieve_workflow_async`; the pair in a user
workflow, and its id run again. Units record into DIR/calls.log; the report goes to DIR/inprocess.report. 2.68's
convention: a tool is a step only with `@DBOS.step`, so here the tool runs in workflow code (what a run returns is
compared, not how it was journaled).
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
from _dbos_program import FORMS, durability, durable  # noqa: E402
from dbos import DBOS, SetWorkflowID  # noqa: E402
from durable_core.testing import DurableCallCounter  # noqa: E402

form, db_url, directory = sys.argv[1:4]
assert form in FORMS, form
DIR = Path(directory)
counter = DurableCallCounter(DIR / 'calls.log')
durable_agent: Any = durable(
    'pydantic_ai',
    form,
    fidelity.build_agent('fidelity_pai', counter.record, capabilities=durability('pydantic_ai', form)),
)


async def run_one(requester: str) -> Any:
    return await durable_agent.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


@DBOS.workflow(name='fidelity.single')
async def single_workflow() -> Any:
    return await run_one(fidelity.SINGLE)


@DBOS.workflow(name='fidelity.one')
async def one_workflow(requester: str) -> Any:
    return await run_one(requester)


def single() -> Awaitable[Any]:
    """The single run: the wrapper's own workflow, or, in the capability form, `fidelity.single`."""
    return run_one(fidelity.SINGLE) if form == 'wrapper' else single_workflow()


@DBOS.workflow(name='fidelity.pair')
async def pair_workflow() -> list[dict[str, Any]]:
    # As engines/dbos_fidelity.py: in the capability form, each of the pair runs in a child workflow of its own
    # (runs at once in one workflow would share its journal), as `DBOSAgent.run()` does by itself.
    runs = (run_one(requester) if form == 'wrapper' else one_workflow(requester) for requester in fidelity.PAIR)
    results = await asyncio.gather(*runs)
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
        'reference': observed(lambda: with_id('ref', single)),
        'same_id': observed(lambda: with_id('ref', single)),
        'retrieved': observed(retrieved),
        'pair_reference': lambda: with_id('pair-ref', pair_workflow),
        'pair_same_id': lambda: with_id('pair-ref', pair_workflow),
    }
    for key, make in paths.items():
        await fidelity.report_path(report, key, make, counter.total)
    (DIR / 'inprocess.report').write_text(fidelity.dumps(report))


DBOS(config={'name': f'fidelity-pai-{form}', 'system_database_url': db_url, 'log_level': 'WARNING'})
asyncio.run(main())
DBOS.destroy()
