"""The recovery-fidelity program (`fidelity.py`) on Prefect, one mode per process.

Usage: prefect_fidelity.py MODE PREFECT_API_URL PREFECT_HOME DIR [FORM]. FORM is `wrapper` (the default: a
`PrefectAgent`, each run a subflow) or `capability` (an agent `fidelity_capability` with `PrefectDurability`, run in
the user flows themselves). Units record at their source into DIR/calls.log; the
report (pickled observations, see `fidelity.observe`) goes to DIR/<MODE>.report. Both processes of the kill path
share PREFECT_HOME, where local result storage lives.
- `inprocess`: a user flow with `retries=1` runs the agent (the single run; then, in another flow run, the pair
  with `asyncio.gather`) and fails once after it; its retry runs the agent again. It reports each attempt's results
  and how many units the retry ran.
- `start`: creates a flow run of the single run's user flow and one of the pair's, writes their ids to DIR/ids, and
  runs both here, holding every Porto tool call: the test kills the process there.
- `rerun`: waits for DIR/resume, sets both flow runs back to Scheduled and runs them again here, as a worker does
  with a crashed run; it reports their results.
"""

from __future__ import annotations

import sys
from pathlib import Path

mode, api_url, home, directory = sys.argv[1:5]
capability_form = sys.argv[5:6] == ['capability']
from _prefect_env import use_prefect_server  # noqa: E402

use_prefect_server(api_url, home)

import asyncio  # noqa: E402
import json  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402
from uuid import UUID  # noqa: E402

import _common  # noqa: E402, F401  (puts tests/ on sys.path)
import fidelity  # noqa: E402
from durable_core.testing import DurableCallCounter  # noqa: E402
from durable_prefect import PrefectAgent, PrefectDurability  # noqa: E402
from prefect import flow  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.flow_engine import run_flow_async  # noqa: E402
from prefect.states import Scheduled  # noqa: E402

DIR = Path(directory)
counter = DurableCallCounter(DIR / 'calls.log')


async def hold(city: str) -> None:
    if mode == 'start' and city == fidelity.HELD_CITY:
        await asyncio.Event().wait()  # until the process is killed


if capability_form:
    agent = fidelity.build_agent('fidelity_capability', counter.record, hold, [PrefectDurability()])
else:
    prefect_agent = PrefectAgent(fidelity.build_agent('fidelity', counter.record, hold))


async def run_one(requester: str) -> Any:
    if capability_form:  # in the user flow's own code
        return await agent.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))
    return await prefect_agent.run(fidelity.PROMPT, **fidelity.run_kwargs(requester))


async def run_pair() -> list[Any]:
    return list(await asyncio.gather(*(run_one(requester) for requester in fidelity.PAIR)))


def observe(results: Any) -> Any:
    return [fidelity.observe(result) for result in results] if isinstance(results, list) else fidelity.observe(results)


ATTEMPTS: dict[str, list[tuple[Any, int]]] = {'single': [], 'pair': []}


@flow(name='fidelity-retried', retries=1, retry_delay_seconds=0)
async def retried_flow(which: str) -> None:
    before = counter.total()
    results = await (run_one(fidelity.SINGLE) if which == 'single' else run_pair())
    ATTEMPTS[which].append((observe(results), counter.total() - before))
    if len(ATTEMPTS[which]) == 1:
        raise RuntimeError('the flow fails after the agent run, once')


@flow(name='fidelity-single')
async def single_flow() -> Any:
    return observe(await run_one(fidelity.SINGLE))


@flow(name='fidelity-pair')
async def pair_flow() -> Any:
    return observe(await run_pair())


def error(exception: Exception) -> dict[str, str]:
    trace = ''.join(traceback.format_exception(exception))
    return {'error': f'{type(exception).__name__}: {exception}\n{trace[-2500:]}'}


async def main() -> None:
    report: dict[str, Any] = {}
    ids = DIR / 'ids'
    if mode == 'inprocess':
        for which, prefix in (('single', ''), ('pair', 'pair_')):
            try:
                await retried_flow(which)
            except Exception as exception:
                report[f'{prefix}retried'] = error(exception)
            attempts = ATTEMPTS[which]
            if attempts:
                report[f'{prefix}retried_reference'] = attempts[0][0]
            if len(attempts) > 1:
                report[f'{prefix}retried'], report[f'{prefix}retried:units'] = attempts[1]
            report[f'{prefix}retried:attempts'] = len(attempts)
    else:
        async with get_client() as client:
            if mode == 'start':
                flow_runs = [await client.create_flow_run(f, parameters={}) for f in (single_flow, pair_flow)]
                ids.write_text(json.dumps([str(flow_run.id) for flow_run in flow_runs]))
            else:
                while not (DIR / 'resume').exists():
                    await asyncio.sleep(0.05)
                flow_runs = []
                for flow_run_id in json.loads(ids.read_text()):
                    await client.set_flow_run_state(UUID(flow_run_id), Scheduled(), force=True)
                    flow_runs.append(await client.read_flow_run(UUID(flow_run_id)))
        outcomes = await asyncio.gather(
            *(
                run_flow_async(f, flow_run=r, parameters={})
                for f, r in zip((single_flow, pair_flow), flow_runs, strict=True)
            ),
            return_exceptions=True,
        )
        if mode == 'start':
            raise AssertionError(f'the held tool calls returned: {outcomes}')
        for key, outcome in zip(('recovered', 'pair_recovered'), outcomes, strict=True):
            report[key] = error(outcome) if isinstance(outcome, Exception) else outcome
    (DIR / f'{mode}.report').write_text(fidelity.dumps(report))


asyncio.run(main())
