"""Syscalls the pipe tests reach through libc (fcntl, lseek, pread, pwrite), the ways to make
a pipe, and reading a line from a child (pipe(2), bounded reads, filling: fixtures.pipes).

fixtures.libc wraps read/write/pipe2; these add the calls the os module would
otherwise stand in for, so that the errno seen is the kernel's.
"""
from __future__ import annotations

import ctypes
import os

from fixtures import libc
from fixtures.pipes import pipe, read_exactly

_c = libc.libc
_fcntl = _c["fcntl"]  # a fresh function pointer: fixtures.locks passes a struct pointer
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


def read_line(fd: int, timeout: float = 5.0, what: str = "peer") -> bytes:
    """One line, byte by byte so nothing after the newline is consumed."""
    line = b""
    while not line.endswith(b"\n"):
        byte = read_exactly(fd, 1, timeout, what)
        if not byte:
            break
        line += byte
    return line
