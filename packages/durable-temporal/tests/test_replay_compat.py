"""Replay with what PydanticAI's docs set up: a dynamic toolset with instructions, and the stock Pydantic converter.

A history must replay with `Replayer(plugins=[PydanticAIPlugin()])`, and also with
`Replayer(data_converter=pydantic_data_converter)` (`temporalio.contrib.pydantic`), the converter PydanticAI's docs
use: our activity payloads must decode with it too (issue 14, item 6).
"""

from __future__ import annotations

import uuid

import pytest
from _temporal_support import plugin_client_fixture  # noqa: F401
from _wf_features import DynamicWorkflow
from _wf_replay_compat import InstructedDynamicWorkflow
from durable_temporal import PASSTHROUGH_MODULES, PydanticAIPlugin
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from test_replay import CASES, HISTORIES, WORKFLOWS


async def _history(plugin_client: Client, task_queue: str, workflow: type, prompt: str) -> WorkflowHistory:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[workflow]):
        handle = await plugin_client.start_workflow(
            workflow.run,  # type: ignore[attr-defined]
            prompt,
            id=f'replay-compat-{uuid.uuid4()}',
            task_queue=task_queue,
        )
        await handle.result()
    return await handle.fetch_history()


async def test_a_dynamic_toolset_with_instructions_replays(plugin_client: Client, task_queue: str) -> None:
    history = await _history(plugin_client, task_queue, InstructedDynamicWorkflow, 'Look up x')
    result = await Replayer(workflows=[InstructedDynamicWorkflow], plugins=[PydanticAIPlugin()]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None, result.replay_failure


def _stock_converter_replayer(*workflows: type) -> Replayer:
    """No plugin: the stock Pydantic converter, and a sandbox that passes through what ours does."""
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
    return Replayer(workflows=list(workflows), data_converter=pydantic_data_converter, workflow_runner=runner)


async def test_fresh_histories_replay_with_the_stock_converter(plugin_client: Client, task_queue: str) -> None:
    for workflow, prompt in ((DynamicWorkflow, 'Look up x'), (InstructedDynamicWorkflow, 'Look up x')):
        history = await _history(plugin_client, task_queue, workflow, prompt)
        result = await _stock_converter_replayer(workflow).replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, (workflow.__name__, result.replay_failure)


@pytest.mark.parametrize('case', sorted(CASES))
async def test_a_committed_history_replays_with_the_stock_pydantic_converter(case: str) -> None:
    history = WorkflowHistory.from_json(f'committed-{case}', (HISTORIES / f'{case}.json').read_text())
    result = await _stock_converter_replayer(*WORKFLOWS).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
