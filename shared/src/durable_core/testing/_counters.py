"""Call counters kept in a file, so they survive the process that recorded them being killed."""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

__all__ = ['DurableCallCounter']


class DurableCallCounter:
    """Counts named events in an append-only file that outlives the recording process, even a SIGKILLed one.

    Each `record` appends one line and fsyncs it before returning, so a count read afterwards, by this process or
    any other, includes it. Processes may record into the same file at once: each line is one `O_APPEND` write.

    Example:
        ```python
        import multiprocessing
        import tempfile
        import time
        from pathlib import Path

        from durable_core.testing import DurableCallCounter


        def worker(path: Path) -> None:
            DurableCallCounter(path).record('model_request')  # on disk when this returns
            time.sleep(60)  # still at work when it is killed


        if __name__ == '__main__':
            with tempfile.TemporaryDirectory() as directory:
                counter = DurableCallCounter(Path(directory) / 'calls.log')
                process = multiprocessing.Process(target=worker, args=(counter.path,))
                process.start()
                counter.wait_for('model_request')  # until the worker has recorded it
                process.kill()  # SIGKILL: the worker gets no chance to flush or clean up
                process.join()
                print(f'worker exit code: {process.exitcode}')  # -9
                print(counter.counts())  # {'model_request': 1}: the record outlived the worker
                assert counter.count('model_request') == 1
        ```

    Args:
        path: The file to keep the counts in; created on the first `record`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def record(self, name: str) -> None:
        """Count one `name`, durably: on disk when this returns.

        Args:
            name: What happened; any non-empty text without a newline.
        """
        if not name or '\n' in name:
            raise ValueError(f'A counter name must be non-empty and have no newline, got {name!r}')
        line = f'{name}\n'.encode()
        created = not self.path.exists()
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(descriptor, line)
            if written != len(line):
                raise OSError(f'Short write to {self.path}: {written} of {len(line)} bytes')
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if created:
            _fsync_directory(self.path.parent)  # so the new file's entry outlives a crash too

    def counts(self) -> dict[str, int]:
        """How many times each name was recorded, by every process, so far."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        # A line without its newline is a write still under way; it isn't counted until it ends.
        complete = data[: data.rfind(b'\n') + 1]
        return dict(Counter(line.decode() for line in complete.split(b'\n')[:-1]))

    def count(self, name: str) -> int:
        """How many times `name` was recorded, by every process, so far."""
        return self.counts().get(name, 0)

    def total(self) -> int:
        """How many records of any name were made, by every process, so far."""
        return sum(self.counts().values())

    def wait_for(self, name: str, count: int = 1, *, timeout: float = 30.0) -> None:
        """Wait until `name` has been recorded at least `count` times, by any process.

        Raises:
            TimeoutError: When it hasn't after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while self.count(name) < count:
            if time.monotonic() >= deadline:
                raise TimeoutError(f'{name!r} was recorded {self.count(name)} times, not {count}, within {timeout} s')
            time.sleep(0.01)

    def clear(self) -> None:
        """Forget every record."""
        self.path.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
