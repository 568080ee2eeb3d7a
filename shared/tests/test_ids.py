from __future__ import annotations

import pytest
from durable_core import DurableNameError
from durable_core._ids import UnitId, check_unique, replay_stable_uuid, validate_name


def test_unit_names_join_agent_kind_toolset_and_tool() -> None:
    assert str(UnitId('geo', 'run')) == 'geo.run'
    assert str(UnitId('geo', 'model_request')) == 'geo.model_request'
    assert str(UnitId('geo', 'tool_call', 'weather', 'forecast')) == 'geo.tool_call.weather.forecast'
    assert str(UnitId('geo', 'mcp_call_tool', 'search')) == 'geo.mcp_call_tool.search'


@pytest.mark.parametrize('name', ['geo', 'Geo_2', '_private', 'with-dash', 'a' * 100])
def test_valid_names(name: str) -> None:
    assert validate_name(name, what='agent name', fix='x') == name


@pytest.mark.parametrize(
    ('name', 'message'),
    [
        (None, "needs a agent name, and none was given. Set one: Agent\\(name='x'\\)"),
        ('', 'needs a agent name'),
        ('has space', 'not a valid durable name'),
        ('dotted.name', 'not a valid durable name'),
        ('9starts_with_digit', 'not a valid durable name'),
        ('a' * 101, 'not a valid durable name'),
        (42, 'not a valid durable name'),
    ],
)
def test_invalid_names_say_how_to_fix_them(name: object, message: str) -> None:
    with pytest.raises(DurableNameError, match=message):
        validate_name(name, what='agent name', fix="Agent(name='x')")


def test_duplicates_are_refused() -> None:
    check_unique(['a', 'b'], what='toolset id', fix='rename one')
    with pytest.raises(DurableNameError, match=r"Two toolset ids are both 'a'; each must be unique\. rename one"):
        check_unique(['a', 'b', 'a'], what='toolset id', fix='rename one')


def test_replay_stable_uuids_depend_only_on_their_parts() -> None:
    assert replay_stable_uuid('wf-1', '3') == replay_stable_uuid('wf-1', '3')
    assert replay_stable_uuid('wf-1', '3') != replay_stable_uuid('wf-1', '4')
    assert replay_stable_uuid('a', 'bc') != replay_stable_uuid('ab', 'c')
