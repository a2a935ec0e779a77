"""fifo.open.*: a blocking open of one end waits for the other end; O_NONBLOCK readers open at once, writers get ENXIO."""
import errno
import os

import pytest

from fifo_helpers import MAKERS, make_fifo, open_and_report
from fixtures import libc
from fixtures.expect import fails_with, succeeds

# (claim, the end the child opens and sleeps on, the end the parent opens to release it)
ENDS = [
    ("fifo.open.block_reader", os.O_RDONLY, os.O_WRONLY),
    ("fifo.open.block_writer", os.O_WRONLY, os.O_RDONLY),
]


def _blocking_open_waits_for_peer(ipc, spawn, channel, observe, how, own, other, label):
    path = make_fifo(ipc, how)
    opened = channel()
    child = spawn(open_and_report, path, own, opened, name=f"{label} opener")
    child.wait_blocked("open", what=f"blocking open({label}) of a FIFO nobody else has open")
    observe("blocked_in", "open")
    # The other end opens without waiting: the child is already there as its peer.
    fd = os.open(path, other | os.O_NONBLOCK)
    try:
        assert opened.recv(timeout=2, what=f"the {label} opener") == "opened"
        got = child.value(timeout=2)
    finally:
        os.close(fd)
    assert got["fd_flags"] == own, f"expected the child's descriptor to be {label}, it is {got['fd_flags']:#o}"


@pytest.mark.claim("fifo.open.block_reader")
@pytest.mark.parametrize("how", MAKERS)
def test_reader_open_waits_for_writer(how, ipc, spawn, channel, observe):
    """open(O_RDONLY) sleeps in open() until the parent opens the FIFO for writing, then returns."""
    _blocking_open_waits_for_peer(ipc, spawn, channel, observe, how, os.O_RDONLY, os.O_WRONLY,
                                  "O_RDONLY")


@pytest.mark.claim("fifo.open.block_writer")
@pytest.mark.parametrize("how", MAKERS)
def test_writer_open_waits_for_reader(how, ipc, spawn, channel, observe):
    """open(O_WRONLY) sleeps in open() until the parent opens the FIFO for reading, then returns."""
    _blocking_open_waits_for_peer(ipc, spawn, channel, observe, how, os.O_WRONLY, os.O_RDONLY,
                                  "O_WRONLY")


def _nonblocking_reader(path, writer_open, writer_closed):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    seen = {}
    # No writer has ever opened the FIFO: read() reports end of file instead of waiting.
    seen["read_without_writer"] = libc.read(fd, 16)
    writer_open.send("reader open")
    writer_closed.recv(timeout=5, what="the parent's writer")
    try:
        libc.read(fd, 16)
        seen["read_with_idle_writer"] = "returned"
    except OSError as exc:
        seen["read_with_idle_writer"] = libc.errno_name(exc.errno)
    os.close(fd)
    return seen


@pytest.mark.claim("fifo.open.nonblock_reader")
@pytest.mark.parametrize("how", MAKERS)
def test_nonblocking_reader_opens_at_once(how, ipc, spawn, channel, observe):
    """open(O_RDONLY|O_NONBLOCK) returns with no writer; read() gives 0 with no writer and EAGAIN with an idle one."""
    path = make_fifo(ipc, how)
    reader_ready, go = channel(), channel()
    reader = spawn(_nonblocking_reader, path, reader_ready, go, name="O_NONBLOCK reader")
    # A bounded receive: had open() waited for a writer or for data, nothing would arrive.
    assert reader_ready.recv(timeout=2, what="the O_NONBLOCK reader's open()") == "reader open"
    wfd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        go.send("writer open, nothing written")
        seen = reader.value(timeout=2)
    finally:
        os.close(wfd)
    observe("read_without_writer", len(seen["read_without_writer"]))
    observe("read_with_idle_writer", seen["read_with_idle_writer"])
    assert seen["read_without_writer"] == b"" and seen["read_with_idle_writer"] == "EAGAIN", (
        f"expected read() to return 0 with no writer and fail with EAGAIN while an idle writer holds "
        f"the FIFO; the kernel gave {seen['read_without_writer']!r} and {seen['read_with_idle_writer']}")


@pytest.mark.claim("fifo.open.enxio")
@pytest.mark.parametrize("how", MAKERS)
def test_nonblocking_writer_without_reader_enxio(how, ipc, observe):
    """open(O_WRONLY|O_NONBLOCK) fails with ENXIO with no reader, and succeeds once a reader has it open."""
    path = make_fifo(ipc, how)
    refused = fails_with(errno.ENXIO, os.open, path, os.O_WRONLY | os.O_NONBLOCK,
                         what="open(O_WRONLY|O_NONBLOCK) of a FIFO with no reader")
    observe("errno", libc.errno_name(refused.errno))
    rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        wfd = succeeds(os.open, path, os.O_WRONLY | os.O_NONBLOCK,
                       what="open(O_WRONLY|O_NONBLOCK) of a FIFO with a reader")
        os.close(wfd)
    finally:
        os.close(rfd)
