"""Pipes for the pipe suite: both ends made by the kernel call under test, and the
few measurements the os module does not give (bytes queued, capacity, filling).

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

import ctypes
import errno
import fcntl
import os
import struct
import termios

from fixtures import libc as lc

PIPE_BUF = 4096          # <linux/limits.h>: the kernel's atomicity bound on every architecture
POSIX_PIPE_BUF = 512     # _POSIX_PIPE_BUF: the least POSIX allows
PIPE_KINDS = ("pipe", "pipe2")

_pipe = lc._fn("pipe", ctypes.c_int, ctypes.POINTER(ctypes.c_int))


class Pipe:
    """One pipe: `r` is fd[0] (read end), `w` is fd[1] (write end); -1 once closed."""

    def __init__(self, kind: str = "pipe", flags: int = 0):
        if kind == "pipe":
            assert flags == 0, "pipe(2) takes no flags: use kind='pipe2'"
            fds = (ctypes.c_int * 2)()
            lc.check(_pipe(fds), "pipe")
            self.r, self.w = fds[0], fds[1]
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


def queued(fd: int) -> int:
    """Bytes waiting in the pipe (ioctl FIONREAD), readable from either end."""
    buf = bytearray(struct.calcsize("i"))
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return struct.unpack("i", buf)[0]


def capacity(fd: int) -> int:
    """fcntl(F_GETPIPE_SZ): the pipe's capacity in bytes (Linux >= 2.6.35)."""
    return fcntl.fcntl(fd, lc.F_GETPIPE_SZ)


def set_nonblocking(fd: int, on: bool = True) -> None:
    """O_NONBLOCK on the open file description, through F_GETFL/F_SETFL as UNP shows."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK if on else flags & ~os.O_NONBLOCK)


def fill(w: int, chunk: int = 65536) -> int:
    """Write to the O_NONBLOCK write end `w` until EAGAIN; the bytes the pipe took."""
    total = 0
    data = b"f" * chunk
    while True:
        try:
            total += lc.write(w, data)
        except OSError as exc:
            if exc.errno != errno.EAGAIN:
                raise
            return total


def drain(r: int, chunk: int = 65536) -> bytes:
    """Read the O_NONBLOCK read end `r` until EAGAIN or EOF; everything that was queued."""
    got = bytearray()
    while True:
        try:
            data = lc.read(r, chunk)
        except OSError as exc:
            if exc.errno != errno.EAGAIN:
                raise
            return bytes(got)
        if not data:
            return bytes(got)
        got += data


def close_fds(*fds: int) -> None:
    """Close the given descriptors (a child dropping the ends it must not hold)."""
    for fd in fds:
        if fd >= 0:
            os.close(fd)
