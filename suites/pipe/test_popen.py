"""pipe.popen: libc popen(cmd, "r") reads the command's stdout, popen(cmd, "w") feeds its stdin,
and pclose returns the command's wait status.

popen runs inside a spawned child, so the shell it starts belongs to that child's
process group and dies with it if anything goes wrong.
"""
import ctypes
import os
import shlex
import signal

import pytest

from fixtures import libc

_c = libc.libc
_popen = _c.popen
_popen.restype = ctypes.c_void_p
_popen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
_pclose = _c.pclose
_pclose.restype = ctypes.c_int
_pclose.argtypes = [ctypes.c_void_p]
_fread = _c.fread
_fread.restype = ctypes.c_size_t
_fread.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p]
_fwrite = _c.fwrite
_fwrite.restype = ctypes.c_size_t
_fwrite.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p]


def _open(cmd: str, mode: bytes) -> int:
    fp = _popen(cmd.encode(), mode)
    if not fp:
        libc.check(-1, f"popen({cmd!r}, {mode.decode()!r})")
    return fp


def _popen_read(cmd: str) -> tuple[bytes, int]:
    """popen(cmd, "r"): everything the command wrote to its stdout, and pclose's status."""
    fp = _open(cmd, b"r")
    out = b""
    buf = ctypes.create_string_buffer(4096)
    while got := _fread(buf, 1, len(buf), fp):
        out += buf.raw[:got]
    return out, libc.check(_pclose(fp), "pclose")


def _popen_write(cmd: str, data: bytes) -> int:
    """popen(cmd, "w"): feed data to the command's stdin; pclose flushes, closes and waits."""
    fp = _open(cmd, b"w")
    written = _fwrite(data, 1, len(data), fp)
    status = libc.check(_pclose(fp), "pclose")
    assert written == len(data), f"fwrite to the popen stream took {written} of {len(data)} bytes"
    return status


# command -> (its stdout, the wait status pclose must return). The stdio checks name
# /proc/self/fd/N, not /dev/stdout: a minimal /dev (a VM guest without udev) lacks those links.
READ_CASES = {
    "echo hello": (b"hello\n", 0),
    "[ -p /proc/self/fd/1 ] && echo stdout-is-a-pipe": (b"stdout-is-a-pipe\n", 0),
    "echo out; exit 3": (b"out\n", 3 << 8),
    "echo partial; kill -TERM $$": (b"partial\n", signal.SIGTERM),
}


def _describe(status: int) -> str:
    if os.WIFEXITED(status):
        return f"{status} (exit {os.WEXITSTATUS(status)})"
    if os.WIFSIGNALED(status):
        return f"{status} (killed by {signal.Signals(os.WTERMSIG(status)).name})"
    return str(status)


@pytest.mark.claim("pipe.popen")
@pytest.mark.parametrize("cmd", list(READ_CASES), ids=["echo", "stdout-is-pipe", "exit-3", "sigterm"])
def test_read_mode(spawn, observe, cmd):
    """popen(cmd, "r") returns the command's output, and pclose its wait status."""
    out, status = spawn(_popen_read, cmd, name="popen caller").value(5)
    want_out, want_status = READ_CASES[cmd]
    observe("output", out.decode())
    observe("pclose", status)
    assert out == want_out, f"popen({cmd!r}, 'r'): expected to read {want_out!r}, read {out!r}"
    assert status == want_status, (f"pclose after {cmd!r}: expected wait status "
                                   f"{_describe(want_status)}, got {_describe(status)}")


# command template (stdin -> the file {out}) -> the wait status pclose must return
WRITE_CASES = {
    "tr a-z A-Z > {out}": 0,
    "[ -p /proc/self/fd/0 ] && tr a-z A-Z > {out}": 0,
    "tr a-z A-Z > {out}; exit 5": 5 << 8,
}


@pytest.mark.claim("pipe.popen")
@pytest.mark.parametrize("template", list(WRITE_CASES), ids=["tr", "stdin-is-pipe", "exit-5"])
def test_write_mode(spawn, ipc, observe, template):
    """popen(cmd, "w") delivers what is written to the command's stdin; pclose returns its status."""
    path = ipc.path("popen-out")
    cmd = template.format(out=shlex.quote(path))
    status = spawn(_popen_write, cmd, b"fed through popen\n", name="popen caller").value(5)
    out = b""
    if os.path.exists(path):  # absent when the command refused to run its tr
        with open(path, "rb") as f:
            out = f.read()
    observe("command_output", out.decode())
    observe("pclose", status)
    assert out == b"FED THROUGH POPEN\n", (
        f"popen({cmd!r}, 'w'): expected the command to receive and upcase the 18 bytes written, "
        f"it produced {out!r}")
    assert status == WRITE_CASES[template], (
        f"pclose after {cmd!r}: expected wait status {_describe(WRITE_CASES[template])}, "
        f"got {_describe(status)}")
