"""Pipes for the pipe suite: both ends made by the kernel call under test. The
measurements the os module does not give (bytes queued, capacity, filling) are
fixtures.pipes.

Shared by the pipe suite's modules (owner: pipeA); other modules import from it,
they do not edit it.

`pipe_pair(kind)` makes a pipe with pipe(2) or pipe2(2) through libc, not
os.pipe (which is pipe2(O_CLOEXEC)), so that a test parametrized over
PIPE_KINDS checks each way a program creates a pipe. Use it as a context
manager: both ends are closed at the end of the block, also when an assertion
fails, and close_read()/close_write() drop one end early (EOF and SIGPIPE
claims depend on every copy of an end being closed).
"""
from __future__ import annotations

import fcntl
import os

from fixtures import libc as lc
from fixtures.pipes import pipe

PIPE_BUF = 4096          # <linux/limits.h>: the kernel's atomicity bound on every architecture
POSIX_PIPE_BUF = 512     # _POSIX_PIPE_BUF: the least POSIX allows
PIPE_KINDS = ("pipe", "pipe2")


class Pipe:
    """One pipe: `r` is fd[0] (read end), `w` is fd[1] (write end); -1 once closed."""

    def __init__(self, kind: str = "pipe", flags: int = 0):
        if kind == "pipe":
            assert flags == 0, "pipe(2) takes no flags: use kind='pipe2'"
            self.r, self.w = pipe()
        elif kind == "pipe2":
            self.r, self.w = lc.pipe2(flags)
        else:
            raise ValueError(f"unknown pipe kind {kind!r}; one of {PIPE_KINDS}")
        self.kind = kind

    def close_read(self) -> None:
        if self.r >= 0:
            os.close(self.r)
            self.r = -1

    def close_write(self) -> None:
        if self.w >= 0:
            os.close(self.w)
            self.w = -1

    def close(self) -> None:
        self.close_read()
        self.close_write()

    def __enter__(self) -> "Pipe":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def pipe_pair(kind: str = "pipe", flags: int = 0) -> Pipe:
    """A new pipe made with pipe(2) (kind 'pipe') or pipe2(2, flags) (kind 'pipe2')."""
    return Pipe(kind, flags)


def set_nonblocking(fd: int, on: bool = True) -> None:
    """O_NONBLOCK on the open file description, through F_GETFL/F_SETFL as UNP shows."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK if on else flags & ~os.O_NONBLOCK)
