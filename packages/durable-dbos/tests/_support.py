"""Helpers shared by the DBOS tests: a model whose script each test sets, DBOS record readers, and an agent in
either durable form (`durable_forms`), run the way its form runs durably."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from dbos import DBOS
from durable_core.testing import ScriptedModel, StepLike
from durable_dbos import DBOSAgent, DBOSDurability
from pydantic_ai import Agent, Tool
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.models import Model
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.models.wrapper import WrapperModel


class SwappableModel(WrapperModel):
    """A model fixed at import time (DBOS agents must exist before launch) whose script each test sets."""

    def __init__(self) -> None:
        super().__init__(FunctionModel(lambda messages, info: (_ for _ in ()).throw(AssertionError('no script set'))))

    def use(self, steps: Sequence[StepLike], **kwargs: Any) -> ScriptedModel:
        scripted = ScriptedModel(steps, **kwargs)
        self.wrapped = scripted
        return scripted


async def step_names(workflow_id: str) -> list[str]:
    """The names of a workflow's recorded steps, in step-id order."""
    return [step['function_name'] for step in await DBOS.list_workflow_steps_async(workflow_id)]


async def child_workflow_ids(parent_name: str) -> list[str]:
    """Ids of the workflows named `parent_name`, newest last."""
    workflows = await DBOS.list_workflows_async(name=parent_name, sort_desc=False)
    return [workflow.workflow_id for workflow in workflows]


def json_loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@contextmanager
def system_database(system_database_url: str) -> Iterator[tuple[Any, str]]:
    """A connection to DBOS's system database, and the prefix of its tables (`dbos.` on PostgreSQL, none on SQLite)."""
    import sqlalchemy as sa

    url = system_database_url
    if url.startswith('postgresql://'):
        url = 'postgresql+psycopg://' + url.removeprefix('postgresql://')
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection, 'dbos.' if url.startswith('postgresql') else ''
    finally:
        engine.dispose()


def raw_records(system_database_url: str, workflow_id: str) -> list[tuple[str, str | None, str | None]]:
    """Every stored value of a workflow as (table, serialization, text), read straight from the database."""
    import sqlalchemy as sa

    with system_database(system_database_url) as (connection, schema):
        rows: list[tuple[str, str | None, str | None]] = []
        (serialization,) = connection.execute(
            sa.text(f'SELECT serialization FROM {schema}workflow_status WHERE workflow_uuid = :id'),
            {'id': workflow_id},
        ).one()
        for table, column in (('workflow_input', 'inputs'), ('workflow_output', 'output')):
            for (text,) in connection.execute(
                sa.text(f'SELECT {column} FROM {schema}{table} WHERE workflow_uuid = :id'), {'id': workflow_id}
            ).all():
                rows.append((table, serialization, text))
        steps = connection.execute(
            sa.text(
                f'SELECT output, serialization FROM {schema}operation_outputs WHERE workflow_uuid = :id '
                'ORDER BY function_id'
            ),
            {'id': workflow_id},
        ).all()
        rows += [('step_output', serialization, output) for output, serialization in steps]
        return rows


def committed_steps(system_database_url: str, function_name: str) -> int:
    """How many steps named `function_name` have a committed output, in every workflow of the database."""
    import sqlalchemy as sa

    try:
        with system_database(system_database_url) as (connection, schema):
            return connection.execute(
                sa.text(
                    f'SELECT COUNT(*) FROM {schema}operation_outputs WHERE function_name = :name AND output IS NOT NULL'
                ),
                {'name': function_name},
            ).scalar_one()
    except sa.exc.DBAPIError:  # the worker has not created the tables yet
        return 0


Form = Literal['wrapper', 'capability']
"""How an agent is made durable: `DBOSAgent(agent)`, or `Agent(..., capabilities=[DBOSDurability(...)])`."""


@dataclass(frozen=True)
class DurableForm:
    """One agent made durable in one form, and run the way that form runs durably."""

    form: Form
    agent: DBOSAgent[Any, Any] | Agent[Any, Any]

    @property
    def name(self) -> str:
        """The agent's name, which names its steps (`<name>.model_request`, ...)."""
        assert self.agent.name is not None
        return self.agent.name

    async def run(self, *args: Any, **kwargs: Any) -> AgentRunResult[Any]:
        """The wrapper's `run()` starts its own workflow; the capability is durable only in workflow code: ours."""
        if self.form == 'wrapper':
            return await self.agent.run(*args, **kwargs)
        key = str(uuid.uuid4())
        _capability_calls[key] = functools.partial(self.agent.run, *args, **kwargs)
        await _run_capability_in_workflow(key)
        return _capability_results.pop(key)


def durable_forms(
    name: str,
    model: Model,
    *,
    tools: Sequence[Tool[Any] | Callable[..., Any]] = (),
    output_type: Any = str,
    **durable: Any,
) -> dict[Form, DurableForm]:
    """The agent in both forms, made at import time as DBOS needs: the wrapper's named `name`, the capability's
    `<name>_capability`.

    `durable` holds the arguments `DBOSAgent` and `DBOSDurability` share (`event_stream_handler=`, step configs).
    """
    wrapped = Agent(model, name=name, tools=tools, output_type=output_type)
    capability = Agent(
        model, name=f'{name}_capability', tools=tools, output_type=output_type, capabilities=[DBOSDurability(**durable)]
    )
    return {
        'wrapper': DurableForm('wrapper', DBOSAgent(wrapped, **durable)),
        'capability': DurableForm('capability', capability),
    }


# The capability form's runs, handed to the workflow in this process: the workflow is a harness, never recovered, and
# its run's arguments (handlers, toolsets) need no serializing.
_capability_calls: dict[str, Callable[[], Awaitable[AgentRunResult[Any]]]] = {}
_capability_results: dict[str, AgentRunResult[Any]] = {}


@DBOS.workflow(name='tests.run_capability_in_workflow')
async def _run_capability_in_workflow(key: str) -> None:
    _capability_results[key] = await _capability_calls.pop(key)()
