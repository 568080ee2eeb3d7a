from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import durable_core.testing._counters as counters_module
import pytest
from durable_core.testing import DurableCallCounter

# The children load the standard-library-only counter module by path, skipping the second it takes to import
# pydantic_ai through the package.
LOAD_COUNTER = textwrap.dedent(
    f"""
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location('counters', {counters_module.__file__!r})
    counters = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(counters)
    counter = counters.DurableCallCounter(sys.argv[1])
    """
)

# Records, then announces it is done recording, then waits to be killed.
CHILD = LOAD_COUNTER + textwrap.dedent(
    """
    import time
    for _ in range(3):
        counter.record('model_request')
    counter.record('tool_call')
    counter.record('ready')
    time.sleep(600)
    """
)


def test_counts_survive_a_sigkill_of_the_recording_process(tmp_path: Path) -> None:
    path = tmp_path / 'calls.log'
    child = subprocess.Popen([sys.executable, '-c', CHILD, str(path)])
    try:
        DurableCallCounter(path).wait_for('ready', timeout=60)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()

    assert child.returncode == -signal.SIGKILL
    counter = DurableCallCounter(path)
    assert counter.counts() == {'model_request': 3, 'tool_call': 1, 'ready': 1}
    assert counter.count('model_request') == 3
    assert counter.count('never') == 0
    assert counter.total() == 5


def test_processes_recording_at_once_lose_no_line(tmp_path: Path) -> None:
    path = tmp_path / 'calls.log'
    script = LOAD_COUNTER + 'for _ in range(200): counter.record(sys.argv[2])\n'
    children = [subprocess.Popen([sys.executable, '-c', script, str(path), f'worker-{n}']) for n in range(3)]
    assert [child.wait() for child in children] == [0, 0, 0]

    assert DurableCallCounter(path).counts() == {'worker-0': 200, 'worker-1': 200, 'worker-2': 200}


def test_a_missing_file_counts_nothing_and_clear_forgets(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    assert counter.counts() == {}

    counter.record('a')
    counter.record('a b')
    assert counter.counts() == {'a': 1, 'a b': 1}

    counter.clear()
    assert counter.counts() == {}


def test_a_torn_last_line_is_not_counted(tmp_path: Path) -> None:
    path = tmp_path / 'calls.log'
    path.write_bytes(b'done\ndone\nhalf-writ')

    assert DurableCallCounter(path).counts() == {'done': 2}


@pytest.mark.parametrize('name', ['', 'two\nlines'])
def test_names_must_fit_on_one_line(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match='non-empty and have no newline'):
        DurableCallCounter(tmp_path / 'calls.log').record(name)


def test_wait_for_raises_when_the_count_is_not_reached(tmp_path: Path) -> None:
    counter = DurableCallCounter(tmp_path / 'calls.log')
    counter.record('once')

    counter.wait_for('once')
    with pytest.raises(TimeoutError, match="'once' was recorded 1 times, not 2"):
        counter.wait_for('once', 2, timeout=0.05)
