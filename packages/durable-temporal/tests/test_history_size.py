"""Workflow history size in bytes for runs of 5, 10 and 20 steps, ours beside PydanticAI's own Temporal integration.

The figures are printed (run with ``-s``) and written to ``history_sizes.json`` in pytest's temporary directory;
the test fails if our history is larger than the competitor's for the same agent.
"""

from __future__ import annotations

import json
import math
import uuid
import warnings
from pathlib import Path

import pytest
import pytest_asyncio
from _temporal_support import history_events, history_size, plugin_client_fixture  # noqa: F401
from _wf_size import PAYLOAD_BYTES, LongRunWorkflow, OursSizeWorkflow, TheirsSizeWorkflow
from durable_core.testing._servers import TemporalDevServer
from temporalio.client import Client
from temporalio.worker import Worker

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin as TheirPlugin

SIZES: dict[int, dict[str, int]] = {}


@pytest_asyncio.fixture(scope='module', loop_scope='session')
async def their_client(temporal_dev_server: TemporalDevServer) -> Client:
    return await Client.connect(temporal_dev_server.target, plugins=[TheirPlugin()])


@pytest.mark.parametrize('steps', [5, 10, 20])
async def test_history_is_smaller_than_the_competitors(
    plugin_client: Client, their_client: Client, task_queue: str, steps: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    prompt = f'{steps} steps please'
    async with Worker(plugin_client, task_queue=f'{task_queue}-ours', workflows=[OursSizeWorkflow]):
        ours = await plugin_client.start_workflow(
            OursSizeWorkflow.run, prompt, id=f'size-ours-{uuid.uuid4()}', task_queue=f'{task_queue}-ours'
        )
        our_output = await ours.result()
    async with Worker(their_client, task_queue=f'{task_queue}-theirs', workflows=[TheirsSizeWorkflow]):
        theirs = await their_client.start_workflow(
            TheirsSizeWorkflow.run, prompt, id=f'size-theirs-{uuid.uuid4()}', task_queue=f'{task_queue}-theirs'
        )
        their_output = await theirs.result()
    assert our_output == their_output == f'Finished after {steps - 1} tool calls.'
    sizes = {'ours': await history_size(ours), 'theirs': await history_size(theirs)}
    SIZES[steps] = sizes
    out = Path(tmp_path_factory.getbasetemp()) / 'history_sizes.json'
    out.write_text(json.dumps(SIZES, indent=2))
    print(f'\nhistory bytes for {steps} steps: ours {sizes["ours"]}, theirs {sizes["theirs"]}')
    assert sizes['ours'] <= sizes['theirs']


async def test_history_grows_linearly_with_the_steps(
    plugin_client: Client, task_queue: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A 1,000-call run completes, its history linear in the steps: a request carries only what earlier ones did not.

    The history is measured where the run's 20th, 80th, 320th and 1,000th model requests were scheduled: what a run
    had stored by then. Before, every request carried the whole conversation, and the history grew as the square of
    the steps (the dev server terminated a run of this agent at about 174 calls, over its 50 MB history limit).
    """
    steps = 1000
    async with Worker(plugin_client, task_queue=task_queue, workflows=[LongRunWorkflow]):
        handle = await plugin_client.start_workflow(
            LongRunWorkflow.run, f'{steps} steps please', id=f'long-{uuid.uuid4()}', task_queue=task_queue
        )
        assert await handle.result() == f'Read {steps - 1} pages.'
    events = await history_events(handle)
    sizes: dict[int, int] = {}
    stored = requests = 0
    for event in events:
        stored += event.ByteSize()
        attributes = event.activity_task_scheduled_event_attributes
        if event.HasField('activity_task_scheduled_event_attributes') and attributes.activity_type.name == (
            'long_ours.model_request'
        ):
            requests += 1
            if requests in (20, 80, 320, steps):
                sizes[requests] = stored
    assert requests == steps
    whole = stored
    out = Path(tmp_path_factory.getbasetemp()) / 'linear_history_sizes.json'
    out.write_text(json.dumps({**sizes, 'whole': whole}, indent=2))
    print(f'\nhistory bytes by model requests: {sizes}, whole: {whole}')
    for fewer, more in ((20, 80), (80, 320), (320, 1000)):
        exponent = math.log(sizes[more] / sizes[fewer]) / math.log(more / fewer)
        assert exponent <= 1.1, f'history grew as steps^{exponent:.2f} from {fewer} to {more} steps: {sizes}'
    # Each result is in the history twice (the tool's activity result, then the new messages of the next request),
    # plus a bounded cost per step: the request's parameters, the tool's run context, the task events.
    assert whole < steps * (2 * PAYLOAD_BYTES + 8_000), whole
