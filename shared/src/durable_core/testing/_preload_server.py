"""The server side of `PreloadedPython`: import some modules once, then fork a process per script asked for.

Run as ``python PATH/_preload_server.py SOCKET MODULE...`` (a file, not ``-m``: that would import durable_core
into every script). It prints ``ready`` once the modules are
imported and it listens; it exits when its standard input closes (its owner stopped or died). Each connection asks
for one script: a JSON request (argv, environment, working directory) with the child's standard streams as file
descriptors. The server forks, answers ``{"pid": N}``, and later ``{"returncode": N}`` (negative: the signal that
ended it), as `subprocess.Popen.returncode` would.

The child becomes what ``python SCRIPT ARGS...`` would be at its first line: its streams, environment, working
directory, ``sys.argv`` and ``sys.path[0]``, run as ``__main__``; it exits as such a process does (``SystemExit``,
an uncaught exception's traceback, ``atexit`` handlers, waiting for non-daemon threads).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import io
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import threading
from typing import Any

_MAX_REQUEST = 1 << 20


def _python_path(value: str | None) -> list[str]:
    """The entries ``PYTHONPATH`` puts on ``sys.path``, after the script's directory (an empty one: the cwd)."""
    return [entry or os.getcwd() for entry in value.split(os.pathsep)] if value else []


_STARTED_WITH = _python_path(os.environ.get('PYTHONPATH'))


def _serve(socket_path: str, modules: list[str]) -> dict[str, Any] | None:
    """Import `modules`, then serve until stdin closes; in a forked child, return its request."""
    if sys.path[1 : 1 + len(_STARTED_WITH)] != _STARTED_WITH:
        raise SystemExit(f'sys.path does not start with PYTHONPATH: {sys.path}')
    for module in modules:
        importlib.import_module(module)
    if threading.active_count() != 1:
        # A fork copies only the forking thread: a module that started a thread cannot be preloaded.
        names = [thread.name for thread in threading.enumerate()]
        raise SystemExit(f'preloading {modules} started threads {names}: preload fewer modules')

    gc.freeze()  # the imported objects stay out of the children's collections: fewer pages copied on write
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(socket_path)
    listener.listen(64)
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    signal.set_wakeup_fd(wake_write.fileno())
    signal.signal(signal.SIGCHLD, _wake)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, 'accept')
    selector.register(wake_read, selectors.EVENT_READ, 'reap')
    selector.register(sys.stdin, selectors.EVENT_READ, 'owner')
    waiting: dict[int, socket.socket] = {}
    print('ready', flush=True)

    while True:
        for key, _ in selector.select():
            if key.data == 'owner':
                if not os.read(sys.stdin.fileno(), 1024):
                    for pid in waiting:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                    return None
            elif key.data == 'reap':
                with contextlib.suppress(BlockingIOError):
                    while wake_read.recv(1024):
                        pass
                _reap(waiting)
            else:
                connection, _ = listener.accept()
                message, fds, _, _ = socket.recv_fds(connection, _MAX_REQUEST, 3)
                request = json.loads(message)
                pid = os.fork()
                if pid == 0:
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    selector.close()
                    for open_socket in (listener, wake_read, wake_write, connection, *waiting.values()):
                        open_socket.close()
                    _die_with_server()
                    if request['new_session']:
                        os.setsid()
                    for target, fd in enumerate(fds):
                        os.dup2(fd, target)
                    for fd in set(fds):
                        if fd > 2:
                            os.close(fd)
                    return request
                for fd in fds:
                    os.close(fd)
                connection.send(json.dumps({'pid': pid}).encode())
                waiting[pid] = connection
                _reap(waiting)  # a child that ended before it was listed


def _wake(signum: int, frame: object) -> None:
    """Nothing: the signal's byte on the wakeup descriptor is what wakes the server."""


def _reap(waiting: dict[int, socket.socket]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = waiting.pop(pid, None)
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.send(json.dumps({'returncode': os.waitstatus_to_exitcode(status)}).encode())
            connection.close()


def _die_with_server() -> None:
    """SIGKILL the child if the server dies (Linux ``PR_SET_PDEATHSIG``): no script outlives a stopped test run.

    Not `durable_core.testing._servers._die_with_parent`: importing it would import durable_core into every script,
    and a compat program must hold only the implementation it runs. SIGKILL, not its SIGTERM: a worker may catch that.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))


def _stream(fd: int, like: io.TextIOWrapper, *, unbuffered: bool) -> io.TextIOWrapper:
    """A standard stream as the interpreter makes it at start-up (``create_stdio``), encoded as `like`."""
    writing = fd != 0
    raw = io.FileIO(fd, 'w' if writing else 'r', closefd=False)
    binary: Any = raw if unbuffered and writing else (io.BufferedWriter if writing else io.BufferedReader)(raw)
    return io.TextIOWrapper(
        binary,
        encoding=like.encoding,
        errors=like.errors,
        line_buffering=not unbuffered and (fd == 2 or raw.isatty()),
        write_through=unbuffered,
    )


def _become(request: dict[str, Any]) -> None:
    """Turn this forked child into ``python SCRIPT ARGS...`` and run the script as ``__main__``."""
    environment: dict[str, str] = request['env']
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(request['cwd'])
    unbuffered = bool(environment.get('PYTHONUNBUFFERED'))
    # Encoded as this interpreter's own streams: PYTHONIOENCODING and the locale are read when it starts.
    sys.stdin = _stream(0, sys.__stdin__, unbuffered=unbuffered)  # type: ignore[arg-type]
    sys.stdout = _stream(1, sys.__stdout__, unbuffered=unbuffered)  # type: ignore[arg-type]
    sys.stderr = _stream(2, sys.__stderr__, unbuffered=unbuffered)  # type: ignore[arg-type]
    script = os.path.abspath(request['argv'][1])
    sys.argv = [script, *request['argv'][2:]]
    sys.path[: 1 + len(_STARTED_WITH)] = [os.path.dirname(script), *_python_path(environment.get('PYTHONPATH'))]
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    sys.path[0] = os.getcwd()  # not this file's directory: its modules' names must not shadow others
    child_request = _serve(sys.argv[1], sys.argv[2:])
    if child_request is not None:
        _become(child_request)
