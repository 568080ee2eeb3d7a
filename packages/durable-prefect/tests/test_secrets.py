"""Headers in the agent's own model settings reach the model, but not what Prefect keeps, in both durable forms.

A unit's task gets only the hash of its inputs (and their occurrence and the run's scope) as parameters, and its
result is the response: a model request's settings stay in the process. Headers passed to a wrapper's run are refused,
as the run's inputs are its flow's parameter.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from durable_core import DurableUsageError
from durable_prefect import PrefectAgent, PrefectDurability
from prefect.client.orchestration import get_client
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from support import DurableForm, Form

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


def _form(form: Form) -> DurableForm:
    model = FunctionModel(_respond)
    if form == 'wrapper':
        agent = Agent(model, name='prefect_secrets', tools=[lookup], model_settings=_SETTINGS)
        return DurableForm(form, PrefectAgent(agent))
    capability = Agent(
        model,
        name='prefect_secrets_capability',
        tools=[lookup],
        model_settings=_SETTINGS,
        capabilities=[PrefectDurability()],
    )
    return DurableForm(form, capability)


async def _stored_text() -> str:
    """Every file under PREFECT_HOME (persisted results, the server's SQLite database), and every run's record."""
    home = Path(os.environ['PREFECT_HOME'])
    texts = [path.read_bytes().decode('utf-8', 'replace') for path in sorted(home.rglob('*')) if path.is_file()]
    async with get_client() as client:
        texts += [run.model_dump_json() for run in await client.read_flow_runs()]
        texts += [run.model_dump_json() for run in await client.read_task_runs()]
    return '\n'.join(texts)


@pytest.mark.parametrize('form', ['wrapper', 'capability'])
async def test_agent_headers_reach_the_model_but_not_prefect(form: Form) -> None:
    SEEN_SETTINGS.clear()
    TOOL_SAW_HEADERS.clear()
    result = await _form(form).run('hi')
    assert result.output == 'The tool said yes.'
    assert [settings and settings['extra_headers'] for settings in SEEN_SETTINGS] == [{'Authorization': SECRET}] * 2
    assert TOOL_SAW_HEADERS == [{'Authorization': SECRET}]
    stored = await _stored_text()
    assert 'The tool said yes.' in stored  # the scan reads the persisted results
    assert 'sk-test' not in stored


async def test_headers_passed_to_the_wrappers_run_are_refused() -> None:
    agent = PrefectAgent(Agent(FunctionModel(_respond), name='prefect_secrets_refused'))
    with pytest.raises(DurableUsageError, match=r'headers often hold secrets.*default_headers'):
        await agent.run('hi', model_settings={'extra_headers': {'Authorization': 'Bearer sk-run-secret'}})
