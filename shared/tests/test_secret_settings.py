"""Secret model settings: which a worker rebuilds from the agent it registered, withheld from journals and restored."""

from __future__ import annotations

from typing import Any

import pytest
from durable_core import DurableUsageError
from durable_core.engine import own_secret_settings, restore_secret_settings, withhold_secret_settings
from pydantic_ai.models.test import TestModel

HEADERS = {'Authorization': 'Bearer sk-test-secret'}


def test_own_secret_settings_merge_the_models_then_the_agents() -> None:
    model = TestModel(settings={'extra_headers': {'X-Model': '1'}, 'temperature': 0.1})
    assert own_secret_settings(model, None) == {'extra_headers': {'X-Model': '1'}}
    assert own_secret_settings(model, {'extra_headers': HEADERS}) == {'extra_headers': HEADERS}
    assert own_secret_settings(TestModel(), {'temperature': 0.5}) == {}
    # A model string has no settings of its own; a callable's settings depend on the run, which a worker lacks.
    assert own_secret_settings('openai:gpt-6.1-sol', {'extra_headers': HEADERS}) == {'extra_headers': HEADERS}
    assert own_secret_settings(model, lambda ctx: {'extra_headers': HEADERS}) == {'extra_headers': {'X-Model': '1'}}


def test_the_agents_own_secrets_are_withheld_and_restored() -> None:
    own = {'extra_headers': HEADERS}
    settings: Any = {'extra_headers': HEADERS, 'temperature': 0.5}
    journaled = withhold_secret_settings(settings, own)
    assert journaled == {'temperature': 0.5}
    assert restore_secret_settings(journaled, own) == settings
    assert withhold_secret_settings({'extra_headers': HEADERS}, own) == {}
    assert restore_secret_settings({}, own) == {'extra_headers': HEADERS}
    assert restore_secret_settings(None, own) == {'extra_headers': HEADERS}  # a model request's `{}` is journaled so
    assert withhold_secret_settings(None, own) is None
    assert restore_secret_settings({'temperature': 0.5}, {}) == {'temperature': 0.5}


def test_a_unit_journaled_with_its_headers_keeps_them() -> None:
    """A unit journaled before secrets were withheld holds them: they win over the agent's current ones."""
    journaled: Any = {'extra_headers': {'Authorization': 'old'}}
    assert restore_secret_settings(journaled, {'extra_headers': HEADERS}) == journaled


@pytest.mark.parametrize('own', [{}, {'extra_headers': {'Authorization': 'the agent'}}])
def test_secrets_no_worker_could_rebuild_are_refused(own: dict[str, Any]) -> None:
    with pytest.raises(DurableUsageError, match=r'headers often hold secrets.*default_headers.*extra_headers'):
        withhold_secret_settings({'extra_headers': HEADERS}, own)
