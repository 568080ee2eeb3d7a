"""Python scripts started as processes forked from an interpreter that has already imported the heavy modules.

A test that starts worker processes (to SIGKILL one mid-run and let another finish the run) pays the imports of
PydanticAI and the engine in every process: about a second of CPU each, more than many workers then spend working.
`PreloadedPython` imports them once, in a server process of its own, and forks each script from there. The scripts
are real processes (their own pid, SIGKILL-able, their own exit code), started as ``python SCRIPT ARGS...`` would
be: their streams, environment, working directory, ``sys.argv`` and ``sys.path[0]``, run as ``__main__``.

Two servers take turns, so two processes started one after the other (a killed worker and the one that finishes
its run) have different hash seeds, as two fresh interpreters would. What must stay a fresh interpreter (a README
example run as a user would, a value checked to be the same in another process) uses `subprocess` as before; a
program that must import only one of two implementations is forked from `LIBRARY_MODULES`, which holds neither.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import itertools
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar, Self

LIBRARY_MODULES = (
    'pydantic_ai',
    'pydantic_ai.models.function',
    'pydantic_ai.models.test',
    'dbos',
    'temporalio.client',
    'temporalio.worker',
)
"""PydanticAI and the engines, none of durable-agents: for programs that must import only one durable implementation."""

DEFAULT_MODULES = (*LIBRARY_MODULES, 'durable_core', 'durable_core.testing', 'durable_dbos', 'durable_temporal')
"""What `PreloadedPython.shared()` imports, of what is installed. Not Prefect: it reads settings when imported."""

_Stream = int | IO[Any] | None


class PreloadedProcess:
    """A script's process, as `subprocess.Popen` shows one: `pid`, `returncode`, the piped streams, and its methods.

    Only ``PIPE`` streams are attributes; `wait`, `poll` and `communicate` behave as Popen's.
    """

    def __init__(
        self,
        args: list[str],
        pid: int,
        channel: socket.socket,
        streams: tuple[IO[Any] | None, IO[Any] | None, IO[Any] | None],
    ) -> None:
        self.args = args
        self.pid = pid
        self.returncode: int | None = None
        self.stdin, self.stdout, self.stderr = streams
        self._channel = channel
        self._lock = threading.Lock()

    def poll(self) -> int | None:
        """The exit code if the process has ended, else ``None``."""
        return self._returncode(0.0)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the process to end and return its exit code; `subprocess.TimeoutExpired` after `timeout`."""
        code = self._returncode(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return code

    def _returncode(self, timeout: float | None) -> int | None:
        with self._lock:
            if self.returncode is None:
                ready, _, _ = select.select([self._channel], [], [], timeout)
                if ready:
                    message = self._channel.recv(4096)
                    # An empty message: the server died; its children were SIGKILLed with it.
                    self.returncode = json.loads(message)['returncode'] if message else -signal.SIGKILL
                    self._channel.close()
            return self.returncode

    def send_signal(self, sig: int) -> None:
        """Send `sig` to the process, unless it has ended."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[Any, Any]:
        """Read the piped output streams to their end and close them, wait for the process, return what they held."""
        if self.stdin is not None:
            self.stdin.close()
        results: dict[int, Any] = {}

        def read(index: int, stream: IO[Any]) -> None:
            with stream:
                results[index] = stream.read()

        readers = [
            threading.Thread(target=read, args=(index, stream), daemon=True)
            for index, stream in ((1, self.stdout), (2, self.stderr))
            if stream is not None
        ]
        for reader in readers:
            reader.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for reader in readers:
            reader.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return results.get(1), results.get(2)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for stream in (self.stdin, self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self.wait()


class PreloadedPython:
    """Start Python scripts as processes forked from servers that imported `modules` once (those installed)."""

    LIBRARY_MODULES: ClassVar[tuple[str, ...]] = LIBRARY_MODULES
    DEFAULT_MODULES: ClassVar[tuple[str, ...]] = DEFAULT_MODULES
    _shared: ClassVar[dict[tuple[str, ...], PreloadedPython]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, modules: Sequence[str] = DEFAULT_MODULES) -> None:
        self.modules = [name for name in modules if _installed(name)]
        self._servers: list[tuple[subprocess.Popen[bytes], str]] = []
        self._turns = itertools.count()
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self._hash_seed: str | None = None

    @classmethod
    def shared(cls, modules: Sequence[str] = DEFAULT_MODULES) -> PreloadedPython:
        """This process's instance for `modules`, started on first use and stopped when the process exits."""
        with cls._shared_lock:
            instance = cls._shared.get(tuple(modules))
            if instance is None:
                instance = cls._shared[tuple(modules)] = cls(modules).start()
                atexit.register(instance.stop)
            return instance

    def start(self) -> Self:
        """Start the two servers and wait until each has imported the modules."""
        self._directory = tempfile.TemporaryDirectory(prefix='durable-preload-')
        self._hash_seed = os.environ.get('PYTHONHASHSEED')
        for index in range(2):
            path = str(Path(self._directory.name) / f'server-{index}.sock')
            server = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name('_preload_server.py')), path, *self.modules],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=self._directory.name,
            )
            self._servers.append((server, path))
        for server, _ in self._servers:
            assert server.stdout is not None
            if server.stdout.readline().strip() != b'ready':
                self.stop()
                raise RuntimeError(f'the preloading Python server exited with code {server.wait()}')
        return self

    def stop(self) -> None:
        """Stop the servers; a script still running is SIGKILLed."""
        for server, _ in self._servers:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if server.stdout is not None:
                server.stdout.close()
        self._servers.clear()
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    def popen(
        self,
        args: Sequence[str | os.PathLike[str]],
        *,
        stdin: _Stream = None,
        stdout: _Stream = None,
        stderr: _Stream = None,
        text: bool = False,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        start_new_session: bool = False,
    ) -> PreloadedProcess:
        """Start ``[sys.executable, SCRIPT, *ARGS]`` as `subprocess.Popen` would.

        Streams: ``None`` (this process's), ``PIPE``, ``DEVNULL``, ``STDOUT`` (for stderr), a file or a descriptor.
        """
        argv = [os.fspath(arg) for arg in args]
        if len(argv) < 2 or argv[0] != sys.executable or argv[1].startswith('-'):
            raise ValueError(f'PreloadedPython runs [sys.executable, SCRIPT, *ARGS], not {argv}')
        if not self._servers:
            raise RuntimeError('PreloadedPython.start() was not called')
        environment = dict(os.environ if env is None else env)
        if environment.get('PYTHONHASHSEED') != self._hash_seed:
            # The seed is chosen when an interpreter starts: the servers' was, from this process's environment.
            raise ValueError(
                f"PYTHONHASHSEED={environment.get('PYTHONHASHSEED')!r} differs from the servers' "
                f'({self._hash_seed!r}): start PreloadedPython with it set, or run the script with subprocess'
            )
        server = self._servers[next(self._turns) % len(self._servers)][1]

        closing: list[int] = []
        ours: list[IO[Any] | None] = [None, None, None]
        theirs: list[int] = []
        for index, spec in enumerate((stdin, stdout, stderr)):
            if spec is None:
                theirs.append(index)
            elif spec == subprocess.PIPE:
                read, write = os.pipe()
                mine, child = (write, read) if index == 0 else (read, write)
                ours[index] = open(mine, ('w' if index == 0 else 'r') + ('' if text else 'b'))  # noqa: SIM115
                theirs.append(child)
                closing.append(child)
            elif spec == subprocess.DEVNULL:
                null = os.open(os.devnull, os.O_RDWR)
                theirs.append(null)
                closing.append(null)
            elif spec == subprocess.STDOUT and index == 2:
                theirs.append(theirs[1])
            elif isinstance(spec, int):
                theirs.append(spec)
            else:
                theirs.append(spec.fileno())

        channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            channel.connect(server)
            request = {
                'argv': argv,
                'env': environment,
                'cwd': os.fspath(cwd or os.getcwd()),
                'new_session': start_new_session,
            }
            socket.send_fds(channel, [json.dumps(request).encode()], theirs)
            answer = json.loads(channel.recv(4096) or b'{}')
            if 'pid' not in answer:
                raise RuntimeError(f'the preloading Python server did not start {argv}')
        except BaseException:
            channel.close()
            for stream in ours:
                if stream is not None:
                    stream.close()
            raise
        finally:
            for fd in closing:
                os.close(fd)
        return PreloadedProcess(argv, answer['pid'], channel, (ours[0], ours[1], ours[2]))

    def run(
        self,
        args: Sequence[str | os.PathLike[str]],
        *,
        stdin: _Stream = None,
        capture_output: bool = False,
        text: bool = False,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[Any]:
        """As `subprocess.run`: start the script, wait for it (killing it after `timeout`), return what it printed."""
        pipe = subprocess.PIPE if capture_output else None
        process = self.popen(args, stdin=stdin, stdout=pipe, stderr=pipe, text=text, env=env, cwd=cwd)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        completed = subprocess.CompletedProcess(process.args, process.wait(), out, err)
        if check:
            completed.check_returncode()
        return completed


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False
