"""Workflow history size in bytes for runs of 5, 10 and 20 steps, ours beside PydanticAI's own Temporal integration.

The figures are printed (run with ``-s``) and written to ``history_sizes.json`` in pytest's temporary directory;
the test fails if our history is larger than the competitor's for the same agent.
"""

from __future__ import annotations

import json
import uuid
import warnings
from pathlib import Path

import pytest
import pytest_asyncio
from _temporal_support import history_size, plugin_client_fixture  # noqa: F401
from _wf_size import OursSizeWorkflow, TheirsSizeWorkflow
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
