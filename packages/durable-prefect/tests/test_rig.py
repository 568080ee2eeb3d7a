"""The test rig itself: a flow with a task on the real local Prefect server, its run read back through the API."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from prefect import flow, task
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterFlowRunId
from prefect.context import get_run_context
from prefect.settings import PREFECT_API_URL

if TYPE_CHECKING:
    from durable_core.testing import PrefectServer


@task
def rig_double(x: int) -> int:
    return x * 2


@flow
def rig_flow(x: int) -> dict[str, object]:
    return {'value': rig_double(x) + 1, 'flow_run_id': str(get_run_context().flow_run.id)}  # type: ignore[union-attr]


@task
async def rig_async_upper(text: str) -> str:
    return text.upper()


@flow
async def rig_async_flow(text: str) -> str:
    return await rig_async_upper(text)


async def test_flow_runs_on_the_local_server(prefect_server: PrefectServer) -> None:
    assert PREFECT_API_URL.value() == prefect_server.api_url
    assert os.environ['PREFECT_HOME'] != os.path.expanduser('~/.prefect')
    result = rig_flow(20)
    assert result['value'] == 41

    # Read the run back from *our* server (not an ephemeral one).
    async with PrefectClient(api=prefect_server.api_url) as client:
        flow_run = await client.read_flow_run(result['flow_run_id'])  # type: ignore[arg-type]
        assert flow_run.state is not None
        assert flow_run.state.is_completed()
        task_runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[flow_run.id])),
        )
        assert [(t.task_key.rsplit('-', 1)[0].endswith('rig_double'), t.state_name) for t in task_runs] == [
            (True, 'Completed')
        ]


async def test_async_flow_state_via_client(prefect_server: PrefectServer) -> None:
    state = await rig_async_flow('durable', return_state=True)
    assert state.is_completed()
    assert await state.result() == 'DURABLE'
    async with get_client() as client:
        assert str(client.api_url).rstrip('/') == prefect_server.api_url
        flow_run = await client.read_flow_run(state.state_details.flow_run_id)  # type: ignore[arg-type]
        assert flow_run.state_name == 'Completed'
