"""Ours against PydanticAI 2.68's `durable_exec`: the recovery-fidelity program in the capability form (issue 15).

The capability twin of `test_fidelity_compat.py` on DBOS and Prefect: 2.68's `DBOSDurability` and
`PrefectDurability`, on a plain agent, run the program of `fidelity.py` on the in-process paths, in drivers of this
folder (`dbos_pai_fidelity.py capability`, `prefect_pai_fidelity.py capability`); ours are the session's
capability-form fidelity runs (`dbos_fidelity('sqlite capability')`, `prefect_capability_fidelity`), which
`test_fidelity.py` checks. On each path both must return equal results, compared as `test_fidelity_compat.py` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_fidelity_compat import _assert_same, _same, _theirs  # pyright: ignore[reportPrivateUsage]


@pytest.fixture(scope='module')
def dbos_capability_theirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp('fidelity-pai-dbos-capability')
    return _theirs('dbos_pai_fidelity.py', 'capability', f'sqlite:///{directory / "pai.sqlite"}', directory=directory)


@pytest.mark.parametrize('key', ['reference', 'same_id', 'retrieved', 'pair_reference', 'pair_same_id'])
def test_dbos_capability_same_results_as_pydantic_ai(
    key: str, dbos_fidelity: Callable[[str], Any], dbos_capability_theirs: dict[str, Any]
) -> None:
    """SQLite: the first run in the app's workflow, its id run again, its result through DBOS's handle; the pair."""
    _assert_same(_same(dbos_fidelity('sqlite capability'), dbos_capability_theirs, key))


@pytest.fixture(scope='module')
def prefect_capability_theirs(tmp_path_factory: pytest.TempPathFactory, prefect_api_url: str) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp('fidelity-pai-prefect-capability')
    return _theirs(
        'prefect_pai_fidelity.py', 'capability', prefect_api_url, str(directory / 'home'), directory=directory
    )


@pytest.mark.parametrize('key', ['retried_reference', 'retried', 'pair_retried_reference', 'pair_retried'])
def test_prefect_capability_same_results_as_pydantic_ai(
    key: str, prefect_capability_fidelity: dict[str, Any], prefect_capability_theirs: dict[str, Any]
) -> None:
    """A user flow's first attempt, and its retry after a failure that follows the agent's run; single and pair."""
    _assert_same(_same(prefect_capability_fidelity, prefect_capability_theirs, key))
