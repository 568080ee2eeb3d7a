"""The test command's own settings that nothing else checks."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_lowest_environments_see_the_index_as_uv_lock_was_resolved() -> None:
    # tox.toml's lowest-* environments resolve their transitive dependencies from the index, not from uv.lock: bounded
    # by UV_EXCLUDE_NEWER, the day after the newest upload the lock holds, they install the same versions on any day.
    # A new lock without a new date fails here.
    environments = tomllib.loads((ROOT / 'tox.toml').read_text())['env']
    lowest = {name: env for name, env in environments.items() if name.startswith('lowest-')}
    assert sorted(lowest) == ['lowest-core', 'lowest-dbos', 'lowest-prefect', 'lowest-temporal']
    dates = {env.get('set_env', {}).get('UV_EXCLUDE_NEWER') for env in lowest.values()}
    assert len(dates) == 1, f'the lowest-* environments differ in UV_EXCLUDE_NEWER: {dates}'
    (date,) = dates
    assert date is not None, 'set UV_EXCLUDE_NEWER in every lowest-* environment of tox.toml'
    uploads = re.findall(r'upload-time = "([^"]+)"', (ROOT / 'uv.lock').read_text())
    newest = max(datetime.fromisoformat(upload) for upload in uploads)
    expected = (newest + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    assert datetime.fromisoformat(date) == expected, (
        f'uv.lock was resolved with uploads up to {newest:%Y-%m-%dT%H:%M:%SZ}: set UV_EXCLUDE_NEWER = '
        f'"{expected:%Y-%m-%dT%H:%M:%SZ}" in the lowest-* environments of tox.toml'
    )
