"""unix.nonblock_large (ERRATUM of the Linux IPC Notes): a non-blocking UNIX stream socket takes at
most about its send buffer in one write(): a 999999-byte write returns a short count, the next
write gets EAGAIN, and the reader gets exactly that count. The note says all 999999 went."""
import errno
import fcntl
import os
import socket

import pytest

from fixtures import libc
from fixtures.expect import fails_with
from fixtures.pipes import drain

NOTE_WRITE = 999999  # the note's single write


def _set_nonblocking(sock):
    """fcntl(F_SETFL, O_NONBLOCK), as the note did on both ends."""
    fd = sock.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


@pytest.mark.claim("unix.nonblock_large")
@pytest.mark.parametrize("how", ["socketpair", "path"])
def test_large_nonblocking_write_is_short(how, socks, kernel, observe):
    """write(999999) on a non-blocking stream socket returns a count of about SO_SNDBUF; the next write
    fails with EAGAIN; the reader drains exactly that count."""
    writer, reader = socks.connected("stream", how)
    for sock in (writer, reader):
        _set_nonblocking(sock)
    sndbuf = writer.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    observe("writer SO_SNDBUF", sndbuf)
    observe("reader SO_RCVBUF", reader.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    observe("net.core.wmem_default", kernel.sysctl("net/core/wmem_default"))
    written = libc.write(writer.fileno(), b"x" * NOTE_WRITE)
    observe("write(999999) returned", written)
    assert 0 < written < NOTE_WRITE and written <= 2 * sndbuf, (
        f"expected write({NOTE_WRITE}) to return a short count of about SO_SNDBUF ({sndbuf}), "
        f"at most {2 * sndbuf}; it returned {written}")
    fails_with(errno.EAGAIN, libc.write, writer.fileno(), b"x" * NOTE_WRITE,
               what="a second write() with the send buffer full")
    received = drain(reader.fileno())
    observe("reader got", len(received))
    assert len(received) == written and set(received) == {ord("x")}, (
        f"expected the reader to drain exactly the {written} bytes written, it got {len(received)}")
