"""Headers in the agent's own model settings reach the model, but not DBOS's journal, in both durable forms.

DBOS journals a workflow's inputs and output and each step's output, not a step's inputs: a model request's
settings stay in the process. Headers passed to a run are refused, as the run's inputs are journaled.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import Any

import pytest
from _support import DurableForm, Form, system_database
from conftest import DbosBackend
from dbos import DBOS
from durable_core import DurableUsageError
from durable_dbos import DBOSAgent, DBOSDurability
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

SECRET = 'Bearer sk-test-secret'
SEEN_SETTINGS: list[dict[str, Any] | None] = []
TOOL_SAW_HEADERS: list[object] = []


def _respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    SEEN_SETTINGS.append(dict(info.model_settings) if info.model_settings is not None else None)
    returned = [part for message in messages for part in message.parts if isinstance(part, ToolReturnPart)]
    if not returned:
        return ModelResponse(parts=[ToolCallPart('lookup', {}, tool_call_id='t1')])
    return ModelResponse(parts=[TextPart(f'The tool said {returned[0].content}.')])


async def lookup(ctx: RunContext[None]) -> str:
    """Look it up."""
    TOOL_SAW_HEADERS.append((ctx.model_settings or {}).get('extra_headers'))
    return 'yes'


_SETTINGS: Any = {'extra_headers': {'Authorization': SECRET}, 'temperature': 0.5}
_MODEL = FunctionModel(_respond)
FORMS: dict[Form, DurableForm] = {
    'wrapper': DurableForm(
        'wrapper', DBOSAgent(Agent(_MODEL, name='dbos_secrets', tools=[lookup], model_settings=_SETTINGS))
    ),
    'capability': DurableForm(
        'capability',
        Agent(
            _MODEL,
            name='dbos_secrets_capability',
            tools=[lookup],
            model_settings=_SETTINGS,
            capabilities=[DBOSDurability()],
        ),
    ),
}


def _stored_text(system_database_url: str) -> str:
    """Every value of every table of DBOS's system database, and each base64 value decoded (pickles hold text)."""
    import sqlalchemy as sa

    texts: list[str] = []
    with system_database(system_database_url) as (connection, schema):
        names = sa.inspect(connection).get_table_names(schema=schema.rstrip('.') or None)
        assert 'operation_outputs' in names
        for name in names:
            for row in connection.execute(sa.text(f'SELECT * FROM {schema}{name}')).all():
                for value in row:
                    text = value.decode(errors='replace') if isinstance(value, bytes) else str(value)
                    texts.append(text)
                    with contextlib.suppress(binascii.Error, ValueError):  # not base64
                        texts.append(base64.b64decode(text, validate=True).decode(errors='replace'))
    return '\n'.join(texts)


async def test_agent_headers_reach_the_model_but_not_the_journal(
    dbos: DBOS, dbos_backend: DbosBackend, form: Form
) -> None:
    SEEN_SETTINGS.clear()
    TOOL_SAW_HEADERS.clear()
    result = await FORMS[form].run('hi')
    assert result.output == 'The tool said yes.'
    assert [settings and settings['extra_headers'] for settings in SEEN_SETTINGS] == [{'Authorization': SECRET}] * 2
    assert TOOL_SAW_HEADERS == [{'Authorization': SECRET}]
    stored = _stored_text(dbos_backend.system_database_url)
    assert 'The tool said yes.' in stored  # the scan reads the journaled values
    assert 'sk-test' not in stored


async def test_headers_passed_to_the_wrappers_run_are_refused(dbos: DBOS) -> None:
    with pytest.raises(DurableUsageError, match=r'headers often hold secrets.*default_headers'):
        await FORMS['wrapper'].run('hi', model_settings={'extra_headers': {'Authorization': 'Bearer sk-run-secret'}})
