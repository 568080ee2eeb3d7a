"""Runs every conformance scenario on Prefect. Usage: prefect_driver.py FORM PREFECT_API_URL OUT_JSON.

FORM is `wrapper` (each scenario agent in a `PrefectAgent`, whose `run` is a flow of its own) or `capability` (each
scenario agent built with `PrefectDurability`, its `agent.run()` called in a `@flow` of this driver's).

The flows run against the real local server at PREFECT_API_URL (never an ephemeral one), with a
private PREFECT_HOME and analytics off; all of it is set before prefect is imported.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

from _prefect_env import use_prefect_server

PREFECT_HOME = tempfile.mkdtemp(prefix='durable-conformance-prefect-')
atexit.register(shutil.rmtree, PREFECT_HOME, ignore_errors=True)
use_prefect_server(sys.argv[2], PREFECT_HOME, logging_level='WARNING')

import asyncio  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

from _capability import ContainedRuns, build_agents_with, parse_form  # noqa: E402
from _common import Built, run_all  # noqa: E402
from durable_prefect import PrefectAgent, PrefectDurability  # noqa: E402
from prefect import flow  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.filters import (  # noqa: E402
    FlowFilter,
    FlowFilterName,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
)
from prefect.client.schemas.sorting import TaskRunSort  # noqa: E402
from prefect.context import FlowRunContext  # noqa: E402
from pydantic_ai.models import Model  # noqa: E402

CAPABILITY_ENGINE = 'prefect_capability'
"""The capability form's agents are named `<scenario>_prefect_capability`."""


def wrap(name: str, built: Built) -> Any:
    # Every function tool is a task by default: the promise is that no task-wrapped tool call runs twice.
    return PrefectAgent(built.agent, models=built.models)


def durability(models: dict[str, Model]) -> list[PrefectDurability[Any]]:
    # The capability with the wrapper's arguments above.
    return [PrefectDurability(models=models)]


async def flow_runs(out: Path) -> None:
    """Add to each scenario's report how many flow runs its agent made on the server: proof that it ran there."""
    report = json.loads(out.read_text())
    async with get_client() as client:
        for name, entry in report.items():
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[f'{name}_prefect.run']))
            )
            entry['flow_runs'] = len(runs)
    out.write_text(json.dumps(report))


@flow(name='conformance-capability-run')
async def capability_run(key: str) -> None:
    """The capability form's container: the agent run `key` names, in a flow run of this flow."""
    context = FlowRunContext.get()
    assert context is not None
    assert context.flow_run is not None
    await RUNS.run(key, str(context.flow_run.id))


RUNS = ContainedRuns(capability_run)


async def task_runs(out: Path) -> None:
    """Add to each scenario's report the tasks its flow runs made on the server: proof that each run was durable.

    Prefect records task runs from events, a moment after they happen: wait (a bound, not an assertion) until
    there are as many model-request tasks as model calls, all in a final state.
    """
    report = json.loads(out.read_text())
    async with get_client() as client:
        for name, entry in report.items():
            flow_run_ids = RUNS.containers.get(f'{name}_{CAPABILITY_ENGINE}', [])
            model_calls = sum(1 for call in entry['calls'] if not call.startswith('tool:'))
            units: list[str] = []
            for _ in range(100 if flow_run_ids else 0):
                runs = await client.read_task_runs(
                    task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=flow_run_ids)),
                    sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                )
                units = [run.name.rsplit('-', 1)[0] for run in runs]
                final = all(run.state is not None and run.state.is_final() for run in runs)
                if final and sum(unit.endswith('.model_request') for unit in units) >= model_calls:
                    break
                await asyncio.sleep(0.1)
            entry['flow_runs'] = entry['containers'] = len(flow_run_ids)
            entry['units'] = units
    out.write_text(json.dumps(report))


async def main(form: str, out: Path) -> None:
    if form == 'wrapper':
        await run_all('prefect', wrap, lambda durable: durable.run, out)
        await flow_runs(out)
    else:
        build_agents_with(durability)
        await run_all(CAPABILITY_ENGINE, lambda name, built: built.agent, RUNS.runner, out)
        await task_runs(out)


if __name__ == '__main__':
    asyncio.run(main(parse_form(sys.argv[1]), Path(sys.argv[3])))
