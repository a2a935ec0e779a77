"""Syscalls the pipe tests reach through libc (fcntl, lseek, pread, pipe), the ways to make
a pipe, and bounded reads for dialogues with a child.

fixtures.libc wraps read/write/pipe2; these add the calls the os module would
otherwise stand in for, so that the errno seen is the kernel's.
"""
from __future__ import annotations

import ctypes
import os
import select
import time

from fixtures import libc
from fixtures.procs import ChildTimeout

_c = libc.libc
_fcntl = _c.fcntl
_fcntl.restype = ctypes.c_int
_fcntl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long]
_lseek = _c.lseek
_lseek.restype = ctypes.c_long
_lseek.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_int]
_pread = _c.pread
_pread.restype = ctypes.c_ssize_t
_pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
_pwrite = _c.pwrite
_pwrite.restype = ctypes.c_ssize_t
_pwrite.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long]
_pipe = _c.pipe
_pipe.restype = ctypes.c_int
_pipe.argtypes = [ctypes.POINTER(ctypes.c_int)]


def fcntl(fd: int, cmd: int, arg: int = 0) -> int:
    """fcntl(2) with an integer argument; OSError with the kernel's errno on failure."""
    return libc.check(_fcntl(fd, cmd, arg), "fcntl")


def lseek(fd: int, offset: int, whence: int) -> int:
    return libc.check(_lseek(fd, offset, whence), "lseek")


def pread(fd: int, n: int, offset: int) -> bytes:
    buf = ctypes.create_string_buffer(n)
    got = libc.check(_pread(fd, buf, n, offset), "pread")
    return buf.raw[:got]


def pwrite(fd: int, data: bytes, offset: int) -> int:
    buf = ctypes.create_string_buffer(data, len(data))
    return libc.check(_pwrite(fd, buf, len(data), offset), "pwrite")


def pipe() -> tuple[int, int]:
    """pipe(2) itself: os.pipe() is pipe2(O_CLOEXEC)."""
    fds = (ctypes.c_int * 2)()
    libc.check(_pipe(fds), "pipe")
    return fds[0], fds[1]


# Every way to make an anonymous pipe: (id, maker). Properties that hold for "a pipe"
# are checked on each of them.
PIPE_KINDS = [
    ("pipe", pipe),
    ("pipe2-0", lambda: libc.pipe2(0)),
    ("pipe2-cloexec", lambda: libc.pipe2(os.O_CLOEXEC)),
    ("pipe2-nonblock", lambda: libc.pipe2(os.O_NONBLOCK)),
    ("pipe2-direct", lambda: libc.pipe2(os.O_DIRECT)),
]
PIPE_KIND_IDS = [k for k, _ in PIPE_KINDS]


def close_all(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def read_exactly(fd: int, n: int, timeout: float = 5.0, what: str = "peer") -> bytes:
    """Read n bytes (or up to EOF) from a blocking fd, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < n:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            raise ChildTimeout(f"{what} sent {len(data)} of {n} bytes within {timeout}s: {data!r}")
        chunk = libc.read(fd, n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_to_eof(fd: int, timeout: float = 5.0, what: str = "peer") -> bytes:
    """Everything until EOF, failing after `timeout` seconds (the writer never closed)."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            raise ChildTimeout(f"no EOF from {what} within {timeout}s (got {data!r}): "
                               "some process still holds the write end")
        chunk = libc.read(fd, 65536)
        if not chunk:
            return data
        data += chunk


def read_line(fd: int, timeout: float = 5.0, what: str = "peer") -> bytes:
    """One line, byte by byte so nothing after the newline is consumed."""
    line = b""
    while not line.endswith(b"\n"):
        byte = read_exactly(fd, 1, timeout, what)
        if not byte:
            break
        line += byte
    return line


def fill_nonblocking(fd: int, chunk: int = 4096) -> int:
    """Write to an O_NONBLOCK fd until EAGAIN; the number of bytes the kernel took."""
    total = 0
    block = b"x" * chunk
    while True:
        try:
            total += libc.write(fd, block)
        except BlockingIOError:
            if chunk == 1:
                return total
            chunk, block = 1, b"x"
