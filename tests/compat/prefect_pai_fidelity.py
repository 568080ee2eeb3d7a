"""The recovery-fidelity program on Prefect with PydanticAI 2.68's `durable_exec`, in either form: the retried flow.

Usage: prefect_pai_fidelity.py FORM PREFECT_API_URL PREFECT_HOME DIR, where FORM is `wrapper` (`PrefectAgent`) or
`capability` (`PrefectDurability` on the agent). The same path as `engines/prefect_fidelity.py inprocess`, in the
same form: a user flow with `retries=1` runs the agent in its own code (the single run, then in another flow run the
pair) and fails once after it. Units record into DIR/calls.log; the report goes to DIR/inprocess.report.
"""

from __future__ import annotations

import sys

form, api_url, home, directory = sys.argv[1:5]
assert form in ('wrapper', 'capability'), form
from _pai import quiet_deprecations  # noqa: E402  (it puts tests/engines on sys.path)

quiet_deprecations()

from _prefect_env import use_prefect_server  # noqa: E402

use_prefect_server(api_url, home)  # before anything imports prefect

import asyncio  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import fidelity  # noqa: E402
from durable_core.testing import DurableCallCounter  # noqa: E402
from prefect import flow  # noqa: E402
from pydantic_ai.durable_exec.prefect import PrefectAgent, PrefectDurability  # noqa: E402

DIR = Path(directory)
counter = DurableCallCounter(DIR / 'calls.log')
# Each form has its own agent and flow names: both forms run on the session's one Prefect server.
CAPABILITY = form == 'capability'
agent = fidelity.build_agent(
    'fidelity_pai_capability' if CAPABILITY else 'fidelity_pai',
    counter.record,
    capabilities=[PrefectDurability()] if CAPABILITY else [],
)
durable_agent = agent if CAPABILITY else PrefectAgent(agent)
ATTEMPTS: dict[str, list[tuple[Any, int]]] = {'single': [], 'pair': []}


async def run_one(requester: str) -> Any:
    return fidelity.observe(await durable_agent.run(fidelity.PROMPT, **fidelity.run_kwargs(requester)))


@flow(
    name='fidelity-pai-capability-retried' if CAPABILITY else 'fidelity-pai-retried', retries=1, retry_delay_seconds=0
)
async def retried_flow(which: str) -> None:
    before = counter.total()
    if which == 'single':
        value: Any = await run_one(fidelity.SINGLE)
    else:
        value = list(await asyncio.gather(*(run_one(requester) for requester in fidelity.PAIR)))
    ATTEMPTS[which].append((value, counter.total() - before))
    if len(ATTEMPTS[which]) == 1:
        raise RuntimeError('the flow fails after the agent run, once')


async def main() -> None:
    report: dict[str, Any] = {}
    for which, prefix in (('single', ''), ('pair', 'pair_')):

        async def attempts(which: str = which) -> Any:
            await retried_flow(which)
            return ATTEMPTS[which]

        await fidelity.report_path(report, f'{prefix}attempts', attempts, counter.total)
        if len(ATTEMPTS[which]) == 2:
            (
                (report[f'{prefix}retried_reference'], _),
                (report[f'{prefix}retried'], report[f'{prefix}retried:units']),
            ) = ATTEMPTS[which]
    (DIR / 'inprocess.report').write_text(fidelity.dumps(report))


asyncio.run(main())
