"""Results recovered after a SIGKILL equal uninterrupted ones (issue 12), on the real local server.

One worker process (`workers/fidelity_worker.py`) serves the flows and runs them: one to the end, the others until
they stop where the test kills the process (in a tool call, or after the agent run finished). The killed flow runs
are rerun (scheduled again, the same flow runs) by a second worker. Each test then compares what a caller reads from
a recovered result with what an uninterrupted run returned, and counts that no completed unit ran twice (every model
request and tool call is counted at its source, in files that survive the kill).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from durable_core._codec import decode_messages
from durable_core.testing import DurableCallCounter
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.states import Scheduled
from support import WAIT, Worker, wait_for_deployment, wait_for_final_state

WORKER = Path(__file__).parent / 'workers' / 'fidelity_worker.py'
TYPED_MODES = ('uninterrupted', 'mid_tool', 'after_run')
# Differ between two flow runs of the same program: masked when a recovered run is compared with another run. When
# they ran, how long a model request took (PydanticAI 2.78's `ModelResponse.request_timestamp` and `duration`), and
# their ids.
_PER_RUN_KEYS = frozenset({'timestamp', 'run_id', 'conversation_id', 'request_timestamp', 'duration'})


@dataclass
class Recovery:
    """The flow runs of the fixture, by label, once the rerun has finished them."""

    directory: Path
    finished: dict[str, FlowRun]
    counts_at_kill: dict[str, dict[str, int]]

    def counter(self, label: str) -> DurableCallCounter:
        return DurableCallCounter(self.directory / f'{label}.calls')

    def report(self, label: str, suffix: str = '') -> dict[str, Any]:
        return json.loads((self.directory / f'{label}.json{suffix}').read_text())


@pytest.fixture(scope='module')
async def recovery(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Recovery]:
    directory = tmp_path_factory.mktemp('fidelity')
    workers: list[Worker] = []
    try:
        first = Worker(WORKER, directory, 'first')
        workers.append(first)
        await wait_for_deployment('typed-agent-in-flow/fidelity', first)
        await wait_for_deployment('two-runs-in-flow/fidelity', first)

        def paths(label: str) -> dict[str, str]:
            return {'counter_path': str(directory / f'{label}.calls'), 'report_path': str(directory / f'{label}.json')}

        runs: dict[str, FlowRun] = {}
        for mode in TYPED_MODES:
            run = await run_deployment(
                'typed-agent-in-flow/fidelity', parameters={'mode': mode, **paths(mode)}, timeout=0
            )
            assert isinstance(run, FlowRun)
            runs[mode] = run
        run = await run_deployment('two-runs-in-flow/fidelity', parameters=paths('two_runs'), timeout=0)
        assert isinstance(run, FlowRun)
        runs['two_runs'] = run

        finished = {'uninterrupted': await wait_for_final_state(runs['uninterrupted'].id, first)}
        # Where the other runs stop in the first process (bounds on waiting, not assertions).
        for label, name in [
            ('mid_tool', 'lookup:Paris'),
            ('after_run', 'after_run'),
            ('two_runs', 'echo:R1:call-2'),
            ('two_runs', 'echo:R2:call-2'),
        ]:
            await asyncio.to_thread(DurableCallCounter(directory / f'{label}.calls').wait_for, name, 1, timeout=WAIT)
        first.kill()
        counts_at_kill = {label: DurableCallCounter(directory / f'{label}.calls').counts() for label in runs}

        # Rerun the killed flow runs: schedule them again and let a fresh worker pick them up.
        async with get_client() as client:
            for label in ('mid_tool', 'after_run', 'two_runs'):
                await client.set_flow_run_state(runs[label].id, Scheduled(), force=True)
        second = Worker(WORKER, directory, 'second')
        workers.append(second)
        for label in ('mid_tool', 'after_run', 'two_runs'):
            finished[label] = await wait_for_final_state(runs[label].id, second)
        yield Recovery(directory, finished, counts_at_kill)
    finally:
        for worker in workers:
            worker.kill()


def _mask_per_run_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: '<per run>' if key in _PER_RUN_KEYS else _mask_per_run_values(item)
            for key, item in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if isinstance(value, list):
        return [_mask_per_run_values(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


async def test_a_finished_agent_run_reused_after_the_kill_gives_the_same_result(recovery: Recovery) -> None:
    assert recovery.finished['after_run'].state_name == 'Completed'
    before_kill = recovery.report('after_run', '.before-kill')
    recovered = recovery.report('after_run')
    assert recovered['output_type'] == before_kill['output_type'] == 'City'
    # The same agent run, so everything is equal, timestamps and ids included.
    assert recovered == before_kill
    assert decode_messages(json.dumps(recovered['all_messages'])) == decode_messages(
        json.dumps(before_kill['all_messages'])
    )
    # The rerun loaded the agent's finished run: nothing in it ran again.
    assert recovery.counts_at_kill['after_run'] == {'model': 2, 'lookup:Paris': 1, 'after_run': 1}
    assert recovery.counter('after_run').counts() == recovery.counts_at_kill['after_run']


async def test_a_run_recovered_in_the_middle_of_a_tool_equals_an_uninterrupted_one(recovery: Recovery) -> None:
    assert recovery.finished['uninterrupted'].state_name == 'Completed'
    assert recovery.finished['mid_tool'].state_name == 'Completed'
    uninterrupted = recovery.report('uninterrupted')
    recovered = recovery.report('mid_tool')
    assert recovered['output_type'] == uninterrupted['output_type'] == 'City'
    assert recovered['output'] == uninterrupted['output']
    assert recovered['usage'] == uninterrupted['usage']
    assert _mask_per_run_values(recovered) == _mask_per_run_values(uninterrupted)
    assert recovery.counter('uninterrupted').counts() == {'model': 2, 'lookup:Paris': 1}
    # Only the interrupted tool call ran again; the model request before it was loaded from storage.
    assert recovery.counts_at_kill['mid_tool'] == {'model': 1, 'lookup:Paris': 1}
    assert recovery.counter('mid_tool').counts() == {'model': 2, 'lookup:Paris': 2}


async def test_two_runs_in_one_flow_keep_their_own_data_after_the_kill(recovery: Recovery) -> None:
    assert recovery.finished['two_runs'].state_name == 'Completed'
    reports = recovery.report('two_runs')
    for label in ('R1', 'R2'):
        result = reports[label]
        assert result['output'] == f'done:echo-{label}-a,echo-{label}-b'
        returns = [
            part.content
            for message in decode_messages(json.dumps(result['all_messages']))
            for part in message.parts
            if part.part_kind == 'tool-return'
        ]
        assert returns == [f'echo-{label}-a', f'echo-{label}-b']
    assert reports['R1']['run_id'] != reports['R2']['run_id']
    # Each run's first tool call and first two model requests completed before the kill and did not run again;
    # only the interrupted second tool calls ran twice.
    expected_at_kill: dict[str, int] = {}
    expected_after: dict[str, int] = {}
    for label in ('R1', 'R2'):
        done = {f'model:{label}:0': 1, f'model:{label}:1': 1, f'echo:{label}:call-1': 1}
        expected_at_kill |= {**done, f'echo:{label}:call-2': 1}
        expected_after |= {**done, f'echo:{label}:call-2': 2, f'model:{label}:2': 1}
    assert recovery.counts_at_kill['two_runs'] == expected_at_kill
    assert recovery.counter('two_runs').counts() == expected_after
