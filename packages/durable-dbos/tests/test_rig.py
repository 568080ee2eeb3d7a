"""The test rig itself: a DBOS workflow with a step, on SQLite and on PostgreSQL, with its step recorded."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from dbos import DBOS, SetWorkflowID

if TYPE_CHECKING:
    from conftest import DbosBackend
    from durable_core.testing import PostgresServer


@DBOS.step()
def rig_double(x: int) -> int:
    return x * 2


@DBOS.workflow()
def rig_workflow(x: int) -> int:
    return rig_double(x) + 1


@DBOS.step()
async def rig_async_step(text: str) -> str:
    return text[::-1]


@DBOS.workflow()
async def rig_async_workflow(text: str) -> str:
    return await rig_async_step(text)


def test_workflow_step_is_recorded(dbos: DBOS, dbos_backend: DbosBackend) -> None:
    assert dbos_backend.system_database_url.startswith(dbos_backend.name)
    workflow_id = f'rig-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        handle = DBOS.start_workflow(rig_workflow, 20)
    assert handle.get_result() == 41
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None
    assert status.status == 'SUCCESS'
    steps = DBOS.list_workflow_steps(workflow_id)
    assert [(s['function_name'].rsplit('.', 1)[-1], s['output']) for s in steps] == [('rig_double', 40)]

    # Same id again: DBOS returns the recorded result instead of running it anew.
    with SetWorkflowID(workflow_id):
        assert rig_workflow(20) == 41
    assert len(DBOS.list_workflow_steps(workflow_id)) == 1


async def test_async_workflow_step_is_recorded(dbos: DBOS, dbos_backend: DbosBackend) -> None:
    workflow_id = f'rig-async-{dbos_backend.name}-{uuid.uuid4()}'
    with SetWorkflowID(workflow_id):
        handle = await DBOS.start_workflow_async(rig_async_workflow, 'durable')
    assert await handle.get_result() == 'elbarud'
    steps = await DBOS.list_workflow_steps_async(workflow_id)
    assert [s['output'] for s in steps] == ['elbarud']


def test_postgres_server_is_real(postgres_server: PostgresServer) -> None:
    assert postgres_server.url.startswith('postgresql://postgres@127.0.0.1:')
    url = postgres_server.create_database(f'rig_{uuid.uuid4().hex[:8]}')
    assert url.startswith(postgres_server.url_for(''))
