"""pipe2.cloexec, pipe2.nonblock, pipe2.direct: what each pipe2() flag does to both ends."""
import errno
import fcntl as fcntl_constants
import os

import pytest

from fixtures import libc
from fixtures.expect import fails_with
from fixtures.facility import present_since
from fixtures.libc import fcntl
from fixtures.pipes import close_all, fill, read_to_eof

FD_CLOEXEC = fcntl_constants.FD_CLOEXEC
F_GETFD = fcntl_constants.F_GETFD
F_GETFL = fcntl_constants.F_GETFL


@pytest.mark.claim("pipe2.cloexec")
@pytest.mark.parametrize("flags,cloexec", [(0, False), (os.O_CLOEXEC, True),
                                           (os.O_CLOEXEC | os.O_NONBLOCK, True)],
                         ids=["no-flag", "O_CLOEXEC", "O_CLOEXEC+O_NONBLOCK"])
def test_fd_cloexec_on_both_ends(observe, flags, cloexec):
    """F_GETFD shows FD_CLOEXEC on both ends exactly when pipe2 was given O_CLOEXEC."""
    r, w = libc.pipe2(flags)
    try:
        got = {"read": bool(fcntl(r, F_GETFD) & FD_CLOEXEC),
               "write": bool(fcntl(w, F_GETFD) & FD_CLOEXEC)}
    finally:
        close_all(r, w)
    observe("FD_CLOEXEC", got)
    assert got == {"read": cloexec, "write": cloexec}, (
        f"pipe2({flags:#o}): expected FD_CLOEXEC {'set' if cloexec else 'clear'} on both ends, "
        f"kernel gave {got}")


def _exec_probe(fds):
    """Exec a shell that reports which of the inherited descriptor numbers are still open."""
    test = " ".join(f"[ -e /proc/self/fd/{fd} ] && echo {fd};" for fd in fds)
    os.execv("/bin/sh", ["sh", "-c", f"{test} exit 0"])


@pytest.mark.claim("pipe2.cloexec")
@pytest.mark.parametrize("flags,survive", [(0, True), (os.O_CLOEXEC, False)],
                         ids=["no-flag", "O_CLOEXEC"])
def test_ends_closed_across_execve(spawn, observe, flags, survive):
    """After execve the new image holds both ends of a pipe2(0) pipe and neither of a pipe2(O_CLOEXEC) one."""
    report_r, report_w = os.pipe()
    r, w = libc.pipe2(flags)
    try:
        def child():
            os.dup2(report_w, 1)  # the report pipe is the shell's stdout
            _exec_probe([r, w])
        shell = spawn(child, name="sh after execve")
        os.close(report_w)
        out = read_to_eof(report_r, what="the exec'd shell")
        result = shell.result(5)
    finally:
        close_all(report_r, report_w, r, w)
    still_open = sorted(int(n) for n in out.split())
    observe("open_after_exec", {"read": r in still_open, "write": w in still_open})
    assert result.exitcode == 0, f"the probe shell {result}"
    expected = sorted([r, w]) if survive else []
    assert still_open == expected, (
        f"pipe2({flags:#o}) ends {r},{w}: expected {expected or 'none'} open after execve, "
        f"the exec'd shell found {still_open or 'none'}")


@pytest.mark.claim("pipe2.nonblock")
def test_o_nonblock_on_both_file_descriptions(observe):
    """F_GETFL of each end shows O_NONBLOCK after pipe2(O_NONBLOCK), and not after pipe2(0)."""
    seen = {}
    for flags, label in ((0, "pipe2(0)"), (os.O_NONBLOCK, "pipe2(O_NONBLOCK)")):
        r, w = libc.pipe2(flags)
        try:
            seen[label] = {"read": bool(fcntl(r, F_GETFL) & os.O_NONBLOCK),
                           "write": bool(fcntl(w, F_GETFL) & os.O_NONBLOCK)}
        finally:
            close_all(r, w)
    observe("O_NONBLOCK", seen)
    assert seen == {"pipe2(0)": {"read": False, "write": False},
                    "pipe2(O_NONBLOCK)": {"read": True, "write": True}}, (
        f"expected O_NONBLOCK on both ends of pipe2(O_NONBLOCK) only, F_GETFL gave {seen}")


@pytest.mark.claim("pipe2.nonblock")
def test_empty_read_and_full_write_are_eagain(observe):
    """Both ends of pipe2(O_NONBLOCK) return EAGAIN instead of blocking: read when empty, write when full."""
    r, w = libc.pipe2(os.O_NONBLOCK)
    try:
        empty = fails_with(errno.EAGAIN, libc.read, r, 1,
                           what="read of an empty pipe2(O_NONBLOCK) pipe with a writer")
        held = fill(w, 4096, to_the_byte=True)
        full = fails_with(errno.EAGAIN, libc.write, w, b"y",
                          what=f"write to a pipe2(O_NONBLOCK) pipe holding {held} bytes")
        capacity = fcntl(w, libc.F_GETPIPE_SZ)
    finally:
        close_all(r, w)
    observe("read_empty", libc.errno_name(empty.errno))
    observe("write_full", libc.errno_name(full.errno))
    observe("held_when_full", held)
    assert held == capacity, (f"the non-blocking writer should fill the pipe to its capacity "
                              f"{capacity} before EAGAIN, kernel took {held}")


def _packet_pipe_or_einval(kernel, observe, note):
    """A pipe2(O_DIRECT) pipe (3.4+, or a backport); on an older kernel without packet mode the
    behaviour checked is EINVAL (None returned)."""
    fds = []
    # O_NONBLOCK only lets the reader find the end of the queued packets with EAGAIN.
    if not present_since(kernel, (3, 4), "pipe2(O_DIRECT)",
                         lambda: fds.extend(libc.pipe2(os.O_DIRECT | os.O_NONBLOCK)), note=note):
        observe("pipe2(O_DIRECT)", "EINVAL")
        return None
    return tuple(fds)


def _reads(fd: int, size: int) -> list[int]:
    """Lengths returned by successive reads of `size` bytes until the pipe is empty."""
    lengths = []
    while True:
        try:
            lengths.append(len(libc.read(fd, size)))
        except BlockingIOError:
            return lengths


# (packet sizes written, read size, read lengths expected), in bytes; "P" = the page size.
DIRECT_CASES = [
    ("one-packet-per-read", lambda P: [10, 20, 30], lambda P: 4096, lambda P: [10, 20, 30]),
    ("short-read-discards-rest", lambda P: [10, 20, 30], lambda P: 5, lambda P: [5, 5, 5]),
    ("split-above-page", lambda P: [P + 100], lambda P: 2 * P, lambda P: [P, 100]),
    ("split-two-pages", lambda P: [2 * P + 1], lambda P: 4 * P, lambda P: [P, P, 1]),
]


@pytest.mark.claim("pipe2.direct")
@pytest.mark.parametrize("writes,read_size,expected", [c[1:] for c in DIRECT_CASES],
                         ids=[c[0] for c in DIRECT_CASES])
def test_packet_mode(kernel, observe, verdict_note, writes, read_size, expected):
    """In a pipe2(O_DIRECT) pipe every read returns at most one packet, and big writes become page-sized packets."""
    fds = _packet_pipe_or_einval(kernel, observe, verdict_note)
    if fds is None:
        return
    r, w = fds
    page = kernel.page_size
    try:
        for size in writes(page):
            assert libc.write(w, b"p" * size) == size
        got = _reads(r, read_size(page))
    finally:
        close_all(r, w)
    observe("writes", writes(page))
    observe("read_lengths", got)
    assert got == expected(page), (
        f"O_DIRECT pipe, writes of {writes(page)} bytes read {read_size(page)} at a time: "
        f"expected read lengths {expected(page)}, kernel returned {got}")


@pytest.mark.claim("pipe2.direct")
def test_byte_stream_without_o_direct(observe):
    """The control: without O_DIRECT the same three writes come back in one read."""
    r, w = libc.pipe2(os.O_NONBLOCK)
    try:
        for size in (10, 20, 30):
            libc.write(w, b"p" * size)
        got = _reads(r, 4096)
    finally:
        close_all(r, w)
    observe("read_lengths_without_o_direct", got)
    assert got == [60], f"expected a byte-stream pipe to return all 60 bytes in one read, got {got}"
