"""One process per job: an advisory lock on a file next to the output.

Two processes appending to the same OUT would each pay for every record and write it twice,
so a job takes an exclusive ``flock`` on ``OUT.lock`` for its whole run and a second process
is refused at once. The kernel releases the lock when the holder's file descriptor closes,
however the process ends (kill -9 included), so no stale lock can outlive a dead job: there
is nothing to clean up by hand. The file stays (an empty lock file is harmless; deleting a
lock file while another process may open it is how two processes end up holding "the" lock).
It holds the holder's pid, only to name it in the refusal.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from ..errors import ConfigurationError

__all__ = ["JobLock", "JobLocked"]


class JobLocked(ConfigurationError):
    """Another process is running this job (the same output file)."""


class JobLock:
    """``with JobLock(path):`` holds the job's lock, or raises `JobLocked` at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1

    def acquire(self) -> None:
        import fcntl  # POSIX only; imported here so that the rest of the package is not

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the lock file {str(self.path)!r}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise JobLocked(
                f"another extractor process{who} is running this job (it holds "
                f"{str(self.path)!r}). Wait for it to finish, or stop it; running both would "
                "pay for every record twice."
            ) from None
        self._fd = fd
        try:  # only to name the holder in a refusal: a full disk must not stop the job here
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = -1

    def __enter__(self) -> JobLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
