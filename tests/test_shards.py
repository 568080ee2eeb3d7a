"""The cross-engine shards of tox.toml together select exactly the tests of `pytest tests`, each once.

A selection that matched more than meant dropped tests from every run unseen: `--deselect` takes a node-id prefix,
and `--deselect=tests/test_kill.py::test_kill_trials` also dropped `test_kill_trials_on_prefect` and `_on_temporal`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).parent.parent

# pytest itself selects: one process collects for every shard (the test modules are imported once).
COLLECT = """
import json, sys
import pytest

class Selected:
    def pytest_collection_finish(self, session):
        self.ids = [item.nodeid for item in session.items]

found = {}
for name, args in json.loads(sys.argv[1]).items():
    selected = Selected()
    code = pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', *args], plugins=[selected])
    found[name] = [int(code), selected.ids]
with open(sys.argv[2], 'w') as out:
    json.dump(found, out)
"""


def selections(tox_toml: str, tmp_path: Path) -> dict[str, list[str]]:
    """The node ids each cross-engine shard's pytest command selects, and `pytest tests`'s (key `tests`)."""
    environments = tomllib.loads(tox_toml)['env']
    shards = {'tests': ['tests']}
    for name, environment in environments.items():
        if name.startswith('cross-'):
            (command,) = environment['commands']
            assert command[0] == 'pytest', (name, command)
            shards[name] = command[1:]
    out = tmp_path / 'selected.json'
    done = subprocess.run(
        [sys.executable, '-c', COLLECT, json.dumps(shards), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = json.loads(out.read_text())
    assert {name: code for name, (code, _) in found.items()} == dict.fromkeys(shards, 0), done.stdout[-3000:]
    return {name: ids for name, (_, ids) in found.items()}


def test_the_cross_engine_shards_select_each_test_once(tmp_path: Path) -> None:
    selected = selections((ROOT / 'tox.toml').read_text(), tmp_path)
    everything = selected.pop('tests')
    assert len(everything) > 100
    times = Counter(test for ids in selected.values() for test in ids)
    assert [test for test, count in times.items() if count > 1] == []
    assert sorted(set(everything) - set(times)) == []
    assert sorted(set(times) - set(everything)) == []
