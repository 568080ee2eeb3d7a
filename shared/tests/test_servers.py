"""durable_core.testing._servers without any engine: ports, lookup, lifecycle (with stand-in CLIs), PostgreSQL.

The real Temporal / Prefect servers are proven by each engine package's ``tests/test_rig.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
from durable_core.testing._servers import (
    PostgresServer,
    PrefectServer,
    ServerStartError,
    TemporalDevServer,
    _held_free_port,  # pyright: ignore[reportPrivateUsage]
    find_executable,
    free_port,
    port_is_open,
    wait_for_port,
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists": look at its state.
    try:
        state = Path(f'/proc/{pid}/stat').read_text().split(')')[-1].split()[0]
    except OSError:
        return True
    return state != 'Z'


def _wait_dead(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_free_port_is_bindable_on_loopback() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    assert not port_is_open(port)
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', port))
        sock.listen()
        assert port_is_open(port)


def test_free_ports_differ() -> None:
    assert len({free_port() for _ in range(20)}) > 1


def test_wait_for_port_sees_a_late_listener() -> None:
    port = free_port()
    sock = socket.socket()

    def listen_later() -> None:
        time.sleep(0.3)
        sock.bind(('127.0.0.1', port))
        sock.listen()

    thread = threading.Thread(target=listen_later)
    thread.start()
    try:
        wait_for_port(port, timeout=10)
    finally:
        thread.join()
        sock.close()


def test_wait_for_port_times_out() -> None:
    with pytest.raises(ServerStartError, match='did not accept connections'):
        wait_for_port(free_port(), timeout=0.3)


def test_wait_for_port_notices_a_dead_process() -> None:
    process = subprocess.Popen([sys.executable, '-c', 'raise SystemExit(3)'])
    with pytest.raises(ServerStartError, match='exited with code 3'):
        wait_for_port(free_port(), timeout=30, process=process)


def test_find_executable(tmp_path: Path) -> None:
    tool = tmp_path / 'durable-fake-tool'
    tool.write_text('#!/bin/sh\n')
    tool.chmod(0o755)
    assert find_executable('durable-fake-tool', extra_dirs=[tmp_path]) == str(tool)
    assert find_executable('durable-surely-missing-tool') is None
    # The interpreter's own directory comes first (a venv's bin).
    python = Path(sys.executable)
    assert find_executable(python.name) == str(python)


def _fake_cli(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f'#!{sys.executable}\n' + textwrap.dedent(body))
    path.chmod(0o755)
    return str(path)


# A stand-in for `temporal`: `server start-dev ... --port N` listens on N (and forks a child, like real servers
# do, to check the whole process group is stopped); `operator cluster health` says SERVING.
FAKE_TEMPORAL = """
import os, socket, sys, time
args = sys.argv[1:]
if args[:2] == ['operator', 'cluster']:
    print('SERVING')
    raise SystemExit(0)
assert args[:2] == ['server', 'start-dev'], args
assert '--headless' in args and args[args.index('--ip') + 1] == '127.0.0.1', args
if os.fork() == 0:
    time.sleep(600)
    raise SystemExit(0)
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('127.0.0.1', int(args[args.index('--port') + 1])))
sock.listen()
print('fake temporal up', flush=True)
while True:
    conn, _ = sock.accept()
    conn.close()
"""


def test_temporal_dev_server_lifecycle_with_a_stand_in(tmp_path: Path) -> None:
    exe = _fake_cli(tmp_path, 'temporal', FAKE_TEMPORAL)
    with TemporalDevServer(executable=exe) as server:
        pid = server.pid
        assert pid is not None
        assert _alive(pid)
        assert server.target == f'127.0.0.1:{server.port}'
        assert port_is_open(server.port)
        children = Path(f'/proc/{pid}/task/{pid}/children').read_text().split()
        assert server.log_path is not None
        assert 'fake temporal up' in server.log_path.read_text()
    assert server.pid is None
    assert _wait_dead(pid)
    assert all(_wait_dead(int(child)) for child in children)
    assert not port_is_open(server.port)


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='PR_SET_PDEATHSIG is Linux only')
def test_server_dies_with_a_killed_test_process(tmp_path: Path) -> None:
    exe = _fake_cli(tmp_path, 'temporal', FAKE_TEMPORAL)
    code = (
        'import sys, time\n'
        'from durable_core.testing._servers import TemporalDevServer\n'
        f'server = TemporalDevServer(executable={exe!r}).start()\n'
        'print(server.pid, flush=True)\n'
        'time.sleep(600)\n'
    )
    # The killed process cannot remove the server's temp dir: it is made under tmp_path, which pytest removes.
    env = {**os.environ, 'TMPDIR': str(tmp_path)}
    parent = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        assert _alive(server_pid)
    finally:
        parent.kill()
        parent.wait()
    try:
        assert _wait_dead(server_pid), 'the server outlived the SIGKILLed process that started it'
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server_pid, signal.SIGKILL)  # the stand-in's own child


def test_temporal_dev_server_reports_a_crash_with_its_log(tmp_path: Path) -> None:
    exe = _fake_cli(tmp_path, 'temporal', "import sys\nprint('boom: bad flag', flush=True)\nsys.exit(2)\n")
    with pytest.raises(ServerStartError, match=r'(?s)exited with code 2.*boom: bad flag'):
        TemporalDevServer(executable=exe, startup_timeout=30).start()


def test_temporal_dev_server_starts_again_when_it_exits_while_starting(tmp_path: Path) -> None:
    # The first start panics as a dev server does when a port it was given was taken in between.
    tries = tmp_path / 'tries'
    body = (
        f'import pathlib, sys\ntries = pathlib.Path({str(tries)!r})\n'
        "if 'start-dev' in sys.argv:\n"
        "    tries.write_text(tries.read_text() + 'x' if tries.exists() else 'x')\n"
        "if 'start-dev' in sys.argv and len(tries.read_text()) == 1:\n"
        "    print('panic: listen tcp 127.0.0.1:1: bind: address already in use', flush=True)\n"
        '    raise SystemExit(2)\n'
    )
    exe = _fake_cli(tmp_path, 'temporal', body + FAKE_TEMPORAL)
    with TemporalDevServer(executable=exe, startup_timeout=60) as server:
        assert port_is_open(server.port)
        assert tries.read_text() == 'xx'


def test_temporal_dev_server_gives_up_after_three_starts_and_shows_the_panic(tmp_path: Path) -> None:
    # A Go panic prints its message first and a long stack after it: the error keeps both ends of the log.
    body = (
        "print('panic: the message that names the cause')\n"
        "print('\\n'.join(f'stack line {i}' for i in range(200)), flush=True)\n"
        'raise SystemExit(2)\n'
    )
    exe = _fake_cli(tmp_path, 'temporal', body)
    with pytest.raises(ServerStartError) as caught:
        TemporalDevServer(executable=exe, startup_timeout=60).start()
    message = str(caught.value)
    assert message.count('exited with code 2') == 3
    assert 'attempt 1:' in message
    assert 'attempt 2:' in message
    assert message.count('panic: the message that names the cause') == 3
    assert 'stack line 199' in message
    assert 'lines left out' in message


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the TIME_WAIT hold is Linux only')
def test_a_held_port_is_skipped_by_plain_binds_and_bindable_by_servers() -> None:
    port = _held_free_port()
    with socket.socket() as plain, pytest.raises(OSError, match='Address already in use'):
        plain.bind(('127.0.0.1', port))  # TIME_WAIT holds it: the kernel will not hand it out either
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(('127.0.0.1', port))
        server.listen()
        assert port_is_open(port)


def test_missing_cli_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError, match='temporal'):
        TemporalDevServer(executable=str(tmp_path / 'nope')).start()
    with pytest.raises(ServerStartError, match='prefect'):
        PrefectServer(executable=str(tmp_path / 'nope')).start()


# A stand-in for `prefect`: `server database upgrade -y` writes a database (and counts its runs beside itself);
# `server start` checks its home holds that database and answers /api/health.
FAKE_PREFECT = """
import http.server, os, sys
args = sys.argv[1:]
home = os.environ['PREFECT_HOME']
if args == ['server', 'database', 'upgrade', '-y']:
    with open(os.path.join(os.path.dirname(sys.argv[0]), 'upgrades.log'), 'a') as log:
        log.write(home + chr(10))
    if os.environ.get('FAIL_UPGRADE'):
        sys.exit('the migration failed')
    with open(os.path.join(home, 'prefect.db'), 'w') as database:
        database.write('migrated')
    sys.exit(0)
assert args[:2] == ['server', 'start'], args
if not os.environ.get('PREFECT_API_DATABASE_CONNECTION_URL'):
    with open(os.path.join(home, 'prefect.db')) as database:
        assert database.read().startswith('migrated')
assert '--no-ui' in args and '--analytics-off' in args, args
assert os.environ['DO_NOT_TRACK'] == '1' and os.environ['PREFECT_SERVER_ANALYTICS_ENABLED'] == 'false'
assert os.path.isdir(os.environ['PREFECT_HOME'])
assert 'PREFECT_API_URL' not in os.environ

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == '/api/health' else 404)
        self.end_headers()
        self.wfile.write(b'true')

    def log_message(self, *a):
        pass

port = int(args[args.index('--port') + 1])
http.server.HTTPServer((args[args.index('--host') + 1], port), Health).serve_forever()
"""


def test_prefect_server_lifecycle_with_a_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PREFECT_API_URL', 'http://elsewhere.invalid/api')  # must not leak into the server
    exe = _fake_cli(tmp_path, 'prefect', FAKE_PREFECT)
    with PrefectServer(executable=exe, home=tmp_path / 'home') as server:
        pid = server.pid
        assert pid is not None
        assert server.api_url == f'http://127.0.0.1:{server.port}/api'
        assert server.env['PREFECT_API_URL'] == server.api_url
        assert server.env['PREFECT_HOME'] == str(tmp_path / 'home')
    assert _wait_dead(pid)


def test_prefect_servers_start_from_one_migrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Migrating a new database is most of a Prefect server's start: it is done once, and each server copies it."""
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path / 'tmp'))
    (tmp_path / 'tmp').mkdir()
    exe = _fake_cli(tmp_path, 'prefect', FAKE_PREFECT)
    homes = [tmp_path / 'first', tmp_path / 'second']
    for home in homes:
        with PrefectServer(executable=exe, home=home):
            assert (home / 'prefect.db').read_text() == 'migrated'
    upgrades = (tmp_path / 'upgrades.log').read_text().splitlines()
    assert len(upgrades) == 1
    assert Path(upgrades[0]).parent == tmp_path / 'tmp' / 'durable-core-prefect-databases'
    # A home that has its database, or a server given another database, is left as it is.
    (homes[0] / 'prefect.db').write_text('migrated, then written to by its server')
    with PrefectServer(executable=exe, home=homes[0]):
        pass
    assert (homes[0] / 'prefect.db').read_text() == 'migrated, then written to by its server'
    with PrefectServer(
        executable=exe, home=tmp_path / 'postgres', extra_env={'PREFECT_API_DATABASE_CONNECTION_URL': 'postgresql://x'}
    ):
        assert not (tmp_path / 'postgres' / 'prefect.db').exists()
    assert len((tmp_path / 'upgrades.log').read_text().splitlines()) == 1


def test_a_failed_prefect_migration_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path / 'tmp'))
    (tmp_path / 'tmp').mkdir()
    exe = _fake_cli(tmp_path, 'prefect', FAKE_PREFECT)
    server = PrefectServer(executable=exe, home=tmp_path / 'home', extra_env={'FAIL_UPGRADE': '1'})
    with pytest.raises(ServerStartError, match=r'(?s)database upgrade` failed with code 1.*the migration failed'):
        server.start()
    assert server.pid is None
    assert not (tmp_path / 'home' / 'prefect.db').exists()


def test_postgres_server(tmp_path: Path) -> None:
    """A real (throw-away) PostgreSQL cluster: scripts/test installs PostgreSQL, so no skip here."""
    with PostgresServer(database='rig') as server:
        assert server.url == f'postgresql://postgres@127.0.0.1:{server.port}/rig'
        pid = server.pid
        assert pid is not None
        assert _alive(pid)
        assert port_is_open(server.port)
        other = server.create_database('second')
        assert other.endswith('/second')
        with pytest.raises(ServerStartError, match='already exists'):
            server.create_database('second')
        data_root = server._tmp
        assert data_root is not None
        assert os.path.isdir(data_root)
    assert _wait_dead(pid)
    assert not port_is_open(server.port)
    assert not os.path.exists(data_root)
