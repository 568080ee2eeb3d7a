"""The recovery-fidelity program (`fidelity.py`) on DBOS, one mode per process.

Usage: dbos_fidelity.py MODE DB_URL DIR [FORM]. FORM is `wrapper` (the default: a `DBOSAgent`) or `capability` (an
agent with `DBOSDurability`, each run in a workflow of the program's own: `fidelity.single`, `fidelity.one`).
Units record at their source into DIR/calls.log; the report (pickled observations, see `fidelity.observe`) goes to
DIR/<MODE>.report.
- `inprocess`: the reference run (workflow id `ref`), the same id run again with `SetWorkflowID`, its result read
  through `DBOS.retrieve_workflow_async`; the pair (a user workflow running R1 and R2 with `asyncio.gather`, id
  `pair-ref`) and that workflow's id run again. It reports how many units each re-run ran.
- `crash`: starts the single run (`crash`) and the pair (`pair-crash`) and holds every Porto tool call: the test
  kills the process there.
- `recover`: launches (DBOS recovers both workflows), reads each result through DBOS's handle, and runs the single
  run's id again with `SetWorkflowID` (our package's typed result from the journal).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import _common  # noqa: F401  (puts tests/ on sys.path)
import fidelity
from dbos import DBOS, SetWorkflowID
from durable_core.testing import DurableCallCounter
from durable_dbos import DBOSAgent, DBOSDurability

mode, db_url, directory = sys.argv[1:4]
capability_form = sys.argv[4:5] == ['capability']
DIR = Path(directory)
counter = DurableCallCounter(DIR / 'calls.log')


async def hold(city: str) -> None:
    if mode == 'crash' and city == fidelity.HELD_CITY:
        await asyncio.Event().wait()  # until the process is killed


if capability_form:
    agent = fidelity.build_agent('fidelity', counter.record, hold, [DBOSDurability(tool_step_config={})])
else:
    dbos_agent = DBOSAgent(fidelity.build_agent('fidelity', counter.record, hold), tool_step_config={})


async def run_one(requester: str) -> Any:
    if capability_form:  # in a workflow of this program's (the pair's, or `fidelity.single`)
        return await agent.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))
    return await dbos_agent.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


@DBOS.workflow(name='fidelity.single')
async def single_workflow() -> Any:
    return await run_one(fidelity.SINGLE)


@DBOS.workflow(name='fidelity.one')
async def one_workflow(requester: str) -> Any:
    return await run_one(requester)


def single() -> Awaitable[Any]:
    """The single run: the wrapper's own workflow, or, in the capability form, `fidelity.single`."""
    return single_workflow() if capability_form else run_one(fidelity.SINGLE)


@DBOS.workflow(name='fidelity.pair')
async def pair_workflow() -> list[dict[str, Any]]:
    # In the capability form, runs at once in one workflow are refused (they would share its journal): each of the
    # pair runs in a child workflow of its own, as the refusal's message advises (and as `DBOSAgent.run()` does).
    runs = (one_workflow(requester) if capability_form else run_one(requester) for requester in fidelity.PAIR)
    results = await asyncio.gather(*runs)
    return [fidelity.observe(result) for result in results]


async def with_id(workflow_id: str, run: Callable[[], Awaitable[Any]]) -> Any:
    with SetWorkflowID(workflow_id):
        return await run()


async def retrieved(workflow_id: str) -> Any:
    return await (await DBOS.retrieve_workflow_async(workflow_id)).get_result()


def observed(run: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
    async def make() -> Any:
        return fidelity.observe(await run())

    return make


async def main() -> None:
    DBOS.launch()
    report: dict[str, Any] = {}
    if mode == 'inprocess':
        await fidelity.report_path(report, 'reference', observed(lambda: with_id('ref', single)), counter.total)
        await fidelity.report_path(report, 'same_id', observed(lambda: with_id('ref', single)), counter.total)
        await fidelity.report_path(report, 'retrieved', observed(lambda: retrieved('ref')), counter.total)
        await fidelity.report_path(report, 'pair_reference', lambda: with_id('pair-ref', pair_workflow), counter.total)
        await fidelity.report_path(report, 'pair_same_id', lambda: with_id('pair-ref', pair_workflow), counter.total)
    elif mode == 'crash':
        runs = [with_id('crash', single), with_id('pair-crash', pair_workflow)]
        await asyncio.gather(*runs)
        raise AssertionError('the held tool calls returned')
    else:
        await fidelity.report_path(report, 'recovered_handle', observed(lambda: retrieved('crash')), counter.total)
        await fidelity.report_path(report, 'recovered', observed(lambda: with_id('crash', single)), counter.total)
        await fidelity.report_path(report, 'pair_recovered', lambda: retrieved('pair-crash'), counter.total)
    (DIR / f'{mode}.report').write_text(fidelity.dumps(report))


DBOS(config={'name': 'fidelity', 'system_database_url': db_url, 'log_level': 'WARNING'})
asyncio.run(main())
DBOS.destroy()
