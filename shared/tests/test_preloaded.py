"""`PreloadedPython`: a script forked from a preloaded interpreter behaves as ``python SCRIPT`` in a fresh one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_core.testing import PreloadedPython

PROBE = textwrap.dedent(
    """
    import atexit, json, os, sys, threading, time

    def done():
        print('atexit ran', flush=True)

    atexit.register(done)
    facts = {
        'argv': sys.argv,
        'name': __name__,
        'file': __file__,
        'path': sys.path[:3],
        'cwd': os.getcwd(),
        'env': os.environ.get('PROBE_VALUE'),
        'stdin': sys.stdin.read(),
        'encoding': [sys.stdout.encoding, sys.stdout.errors, sys.stderr.errors],
        'line_buffered': [sys.stdout.line_buffering, sys.stderr.line_buffering],
        'hash': hash('seed'),
        'pid_is_own': os.getpid() != os.getppid(),
    }
    print(json.dumps(facts))
    print('to stderr', file=sys.stderr)
    mode = sys.argv[1]
    if mode == 'exit':
        sys.exit(3)
    if mode == 'raise':
        raise ValueError('boom')
    if mode == 'sleep':
        sys.stdout.flush()
        time.sleep(600)
    if mode == 'thread':
        # A non-daemon thread: the process waits for it before it exits.
        threading.Thread(target=lambda: (time.sleep(0.5), print('thread finished', flush=True))).start()
    """
)


@pytest.fixture(scope='module')
def python() -> Iterator[PreloadedPython]:
    started = PreloadedPython(['json', 'pydantic_ai']).start()
    yield started
    started.stop()


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    (tmp_path / 'scripts').mkdir()
    (tmp_path / 'on_path').mkdir()
    script = tmp_path / 'scripts' / 'probe.py'
    script.write_text(PROBE)
    return script


def _both(python: PreloadedPython, probe: Path, mode: str) -> list[subprocess.CompletedProcess[str]]:
    """The probe run fresh and preloaded, each with the same environment, working directory and input."""
    cwd = probe.parent.parent
    env = {**os.environ, 'PROBE_VALUE': 'from the caller', 'PYTHONPATH': str(cwd / 'on_path')}
    argv = [sys.executable, str(probe), mode, 'second arg']
    fresh = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    preloaded = python.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    return [fresh, preloaded]


def _facts(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    facts = json.loads(done.stdout.splitlines()[0])
    del facts['hash']
    return facts


@pytest.mark.parametrize('mode', ['ok', 'exit', 'raise', 'thread'])
def test_a_script_sees_and_ends_as_in_a_fresh_interpreter(python: PreloadedPython, probe: Path, mode: str) -> None:
    fresh, preloaded = _both(python, probe, mode)
    assert _facts(preloaded) == _facts(fresh)
    assert preloaded.returncode == fresh.returncode == {'ok': 0, 'exit': 3, 'raise': 1, 'thread': 0}[mode]
    assert preloaded.stdout.splitlines()[1:] == fresh.stdout.splitlines()[1:]
    assert preloaded.stdout.splitlines()[-1] == 'atexit ran'
    if mode == 'thread':
        assert preloaded.stdout.splitlines()[1] == 'thread finished'
    if mode == 'raise':
        assert preloaded.stderr.endswith('ValueError: boom\n')
    else:
        assert preloaded.stderr == fresh.stderr == 'to stderr\n'


def test_the_path_starts_with_the_scripts_directory_then_pythonpath(python: PreloadedPython, probe: Path) -> None:
    _, preloaded = _both(python, probe, 'ok')
    facts = _facts(preloaded)
    assert facts['path'][:2] == [str(probe.parent), str(probe.parent.parent / 'on_path')]  # type: ignore[index]
    assert facts['name'] == '__main__'
    assert facts['file'] == str(probe)


def _seed(python: PreloadedPython, probe: Path) -> int:
    done = python.run([sys.executable, str(probe), 'ok'], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[0])['hash']


def test_two_processes_in_a_row_have_different_hash_seeds(probe: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As two fresh interpreters: a killed worker and the one that resumes its run must not share a seed."""
    monkeypatch.delenv('PYTHONHASHSEED', raising=False)
    python = PreloadedPython(['json']).start()
    try:
        assert _seed(python, probe) != _seed(python, probe)
    finally:
        python.stop()


def test_a_fixed_hash_seed_is_the_one_a_fresh_interpreter_has(probe: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tox fixes PYTHONHASHSEED for a whole run: every process, fresh or preloaded, hashes with it."""
    monkeypatch.setenv('PYTHONHASHSEED', '1234')
    fresh = subprocess.run([sys.executable, str(probe), 'ok'], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    python = PreloadedPython(['json']).start()
    try:
        assert _seed(python, probe) == _seed(python, probe) == json.loads(fresh.stdout.splitlines()[0])['hash']
        with pytest.raises(ValueError, match=r"PYTHONHASHSEED='7' differs from the servers' \('1234'\)"):
            python.popen([sys.executable, str(probe), 'ok'], env={**os.environ, 'PYTHONHASHSEED': '7'})
    finally:
        python.stop()


def test_a_sigkilled_process_reports_the_signal_and_its_own_pid(python: PreloadedPython, probe: Path) -> None:
    process = python.popen([sys.executable, str(probe), 'sleep'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert process.stdout is not None
    first_line = process.stdout.readline()
    assert json.loads(first_line)['argv'][1] == 'sleep'
    assert process.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.2)
    assert Path(f'/proc/{process.pid}/cmdline').exists()
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    process.stdout.close()


def test_streams_go_where_they_are_sent(python: PreloadedPython, probe: Path, tmp_path: Path) -> None:
    log = tmp_path / 'log.txt'
    with log.open('w') as out:
        code = python.popen(
            [sys.executable, str(probe), 'ok'], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        ).wait(timeout=60)
    assert code == 0
    lines = log.read_text().splitlines()
    assert json.loads(lines[0])['stdin'] == ''
    assert lines[1:] == ['to stderr', 'atexit ran']
    quiet = python.popen(
        [sys.executable, str(probe), 'ok'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = quiet.communicate(timeout=60)
    assert (quiet.returncode, err) == (0, b'to stderr\n')


def test_run_kills_the_script_at_its_timeout(python: PreloadedPython, tmp_path: Path) -> None:
    script = tmp_path / 'sleeper.py'
    script.write_text('import os, sys, time\nopen(sys.argv[1], "w").write(str(os.getpid()))\ntime.sleep(600)\n')
    pid_file = tmp_path / 'pid'
    with pytest.raises(subprocess.TimeoutExpired):
        python.run([sys.executable, str(script), str(pid_file)], stdin=subprocess.DEVNULL, timeout=3)
    assert not Path(f'/proc/{int(pid_file.read_text())}').exists()  # killed, and reaped by its server


def test_library_modules_hold_no_durable_agents_code(tmp_path: Path) -> None:
    """A compat program forked from them imports only the durable implementation it runs: 2.68's or ours."""
    script = tmp_path / 'modules.py'
    script.write_text(
        'import json, sys\n'
        "print(json.dumps(sorted(name for name in sys.modules if name.startswith(('durable', 'pydantic_ai')))))\n"
    )
    python = PreloadedPython(PreloadedPython.LIBRARY_MODULES).start()
    try:
        done = python.run([sys.executable, str(script)], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    finally:
        python.stop()
    loaded = json.loads(done.stdout)
    assert 'pydantic_ai.models.function' in loaded
    assert [name for name in loaded if name.startswith('durable')] == []


def test_a_new_session_can_be_killed_as_a_group(python: PreloadedPython, probe: Path) -> None:
    process = python.popen(
        [sys.executable, str(probe), 'sleep'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    process.stdout.readline()
    assert os.getpgid(process.pid) == process.pid
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    process.stdout.close()


def test_stopping_the_servers_kills_what_still_runs(probe: Path) -> None:
    python = PreloadedPython(['json']).start()
    process = python.popen([sys.executable, str(probe), 'sleep'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()
    python.stop()
    assert process.wait(timeout=30) == -signal.SIGKILL
    process.stdout.close()


@pytest.mark.parametrize('argv', [['python3', 'x.py'], [sys.executable, '-c', 'pass'], [sys.executable]])
def test_only_a_script_of_this_interpreter(python: PreloadedPython, argv: list[str]) -> None:
    with pytest.raises(ValueError, match=r'\[sys.executable, SCRIPT, \*ARGS\]'):
        python.popen(argv)
