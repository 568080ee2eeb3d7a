"""A suspended (background) response the run gives up on is cancelled from a unit of its own, `<agent>.model_cancel`.

PydanticAI calls `Model.cancel_suspended_response` when a run abandons a background job (here: the job's first
segment already exceeds the run's token limit). The engine below journals each unit's JSON and reads it back when the
same run is executed again, as an engine does on recovery.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

import pytest
from durable_core.engine import DurableAgent, ModelCancelInputs, RunInputs, UnitCall, UnitConfigs
from durable_core.testing import BackgroundJobModel
from pydantic_ai import Agent, UsageLimitExceeded
from pydantic_ai.agent import AgentRunResult
from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.usage import RequestUsage, UsageLimits

_IN_RUN: ContextVar[bool] = ContextVar('in_run', default=False)
_LIMITS = UsageLimits(output_tokens_limit=10)


def _job_response() -> ModelResponse:
    return ModelResponse(
        parts=[TextPart('working')],
        state='suspended',
        provider_response_id='job-1',
        provider_details={'status': 'in_progress'},
        usage=RequestUsage(output_tokens=50),
    )


class JournalAgent(DurableAgent[Any, Any]):
    """Journals each unit's JSON by (unit, position); a run executed again reads its units back."""

    engine_name = 'journal'
    wrapper_name = 'JournalAgent'

    def __init__(self, wrapped: Agent[Any, Any]) -> None:
        super().__init__(wrapped)
        self.unit_configs = UnitConfigs(model='model-config')
        self.journal: list[tuple[str, str]] = []
        self.calls: list[UnitCall] = []
        self._position = 0

    def _in_durable_context(self) -> bool:
        return _IN_RUN.get()

    async def _run_unit(self, call: UnitCall, execute: Callable[[], Coroutine[Any, Any, str]]) -> str:
        position, self._position = self._position, self._position + 1
        if position < len(self.journal):
            name, journaled = self.journal[position]
            assert name == str(call.unit)
            return journaled
        self.calls.append(call)
        self.journal.append((str(call.unit), await execute()))
        return self.journal[-1][1]

    def _durable_run_id(self) -> str:
        return 'run-1'

    async def _start_durable_run(self, inputs: RunInputs) -> AgentRunResult[Any] | str:
        self._position = 0
        token = _IN_RUN.set(True)
        try:
            return await self.run_inputs(inputs)
        finally:
            _IN_RUN.reset(token)


def _agent(name: str) -> tuple[JournalAgent, BackgroundJobModel]:
    model = BackgroundJobModel()
    return JournalAgent(Agent(model, name=name)), model


def test_the_cancel_unit_is_listed_with_the_model_config() -> None:
    durable, _ = _agent('cancel_names')
    assert durable.durable_unit_names() == [
        'cancel_names.model_cancel',
        'cancel_names.model_request',
        'cancel_names.run',
    ]
    assert {str(unit.unit): unit.config for unit in durable.durable_units()} == {
        'cancel_names.run': None,
        'cancel_names.model_request': 'model-config',
        'cancel_names.model_cancel': 'model-config',
    }


async def test_an_abandoned_background_response_is_cancelled_once_in_a_unit() -> None:
    durable, model = _agent('cancel_once')
    with pytest.raises(UsageLimitExceeded):
        await durable.run('Think hard.', usage_limits=_LIMITS)
    assert [name for name, _ in durable.journal] == ['cancel_once.model_request', 'cancel_once.model_cancel']
    assert durable.journal[1][1] == 'null'
    cancel = durable.calls[1]
    assert cancel.config == 'model-config'
    assert isinstance(cancel.inputs, ModelCancelInputs)
    # The job is cancelled through the model, with the response as the model returned it (and as JSON brings it back).
    assert len(model.cancelled) == 1
    (cancelled,) = model.cancelled
    assert (cancelled.state, cancelled.provider_response_id) == ('suspended', 'job-1')
    assert cancelled.provider_details == {'status': 'in_progress'}

    # Executed again (as on recovery), the run reads both units back: no request, no second cancel.
    with pytest.raises(UsageLimitExceeded):
        await durable.run('Think hard.', usage_limits=_LIMITS)
    assert len(durable.calls) == 2
    assert len(model.cancelled) == 1


async def test_outside_a_durable_run_the_model_cancels_directly() -> None:
    durable, model = _agent('cancel_direct')
    response = _job_response()
    durable_model = durable._durable_model(model, None, None)  # pyright: ignore[reportPrivateUsage]
    await durable_model.cancel_suspended_response(response)
    assert model.cancelled == [response]
    assert durable.calls == []
