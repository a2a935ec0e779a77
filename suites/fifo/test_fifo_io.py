"""fifo.sigpipe, fifo.eof, fifo.capacity: a FIFO's I/O is a pipe's: SIGPIPE/EPIPE, EOF, 65536 bytes then a sleeping writer."""
import os
import select
import signal

import pytest

from fifo_helpers import MAKERS, STEP_BOUND, make_fifo
from fixtures import libc, pipes
from fixtures.pipes import open_bounded


def _write_after_readers_left(path, ready, go, disposition):
    caught = []
    if disposition == "ignored":
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    elif disposition == "caught":
        signal.signal(signal.SIGPIPE, lambda sig, frame: caught.append(sig))
    fd = os.open(path, os.O_WRONLY)  # returns once the parent opens its reader
    ready.send("writer open")
    go.recv(timeout=STEP_BOUND, what="the parent closing its reader")
    try:
        written = libc.write(fd, b"nobody reads this")
    except OSError as exc:
        return {"errno": libc.errno_name(exc.errno), "handler_ran": bool(caught)}
    return {"written": written, "handler_ran": bool(caught)}


@pytest.mark.claim("fifo.sigpipe")
@pytest.mark.parametrize("disposition", ["default", "ignored", "caught"])
@pytest.mark.parametrize("how", MAKERS)
def test_write_without_readers(how, disposition, ipc, spawn, channel, observe):
    """A write after the only reader closed kills a default writer with SIGPIPE, else fails with EPIPE."""
    path = make_fifo(ipc, how)
    ready, go = channel(), channel()
    writer = spawn(_write_after_readers_left, path, ready, go, disposition,
                   name=f"writer with SIGPIPE {disposition}")
    # Opened after the fork, so the parent's descriptor is the FIFO's only reader.
    rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    ready.recv(timeout=2, what="the writer's open()")
    os.close(rfd)
    go.send("reader closed")
    ended = writer.result(timeout=2)
    if disposition == "default":
        observe("writer_ended", str(ended))
        assert ended.signal == signal.SIGPIPE, (
            f"expected the writer to be killed by SIGPIPE (13), it {ended}")
        return
    seen = ended.unwrap()
    observe("write_result", seen.get("errno", seen.get("written")))
    observe("handler_ran", seen["handler_ran"])
    assert seen.get("errno") == "EPIPE", f"expected write() to fail with EPIPE, the kernel gave {seen}"
    if disposition == "caught":
        assert seen["handler_ran"], "expected the SIGPIPE handler to run before write() returned EPIPE"


def _read_everything(path):
    fd = os.open(path, os.O_RDONLY)  # sleeps until the parent opens the write end
    try:
        return pipes.read_chunks(fd)
    finally:
        os.close(fd)


@pytest.mark.claim("fifo.eof")
@pytest.mark.parametrize("how", MAKERS)
def test_reader_gets_eof_after_writer_closes(how, ipc, spawn, observe):
    """The reader gets what the writer wrote, then read() returns 0 once the writer has closed."""
    path = make_fifo(ipc, how)
    reader = spawn(_read_everything, path, name="reader")
    reader.wait_blocked("open", what="reader waiting for a writer")
    data = b"last words before close"
    wfd = open_bounded(path, os.O_WRONLY, what="the reader")
    try:
        os.write(wfd, data)
    finally:
        os.close(wfd)
    chunks = reader.value(timeout=2)
    observe("bytes_read", sum(map(len, chunks)))
    observe("reads_until_eof", len(chunks))
    assert b"".join(chunks) == data and chunks[-1] == b"", (
        f"expected {data!r} then a 0-byte read (EOF), the reader got the chunks {chunks!r}")


def _fill(path, size):
    fd = os.open(path, os.O_WRONLY)
    return libc.write(fd, b"\xa5" * size)  # one write(2): it sleeps once the FIFO is full


def _drain(fd, total, bound=2.0):
    got = 0
    while got < total:
        ready, _, _ = select.select([fd], [], [], bound)
        assert ready, f"the FIFO stayed empty after {got} of {total} bytes: the writer never resumed"
        got += len(os.read(fd, 65536))
    return got


@pytest.mark.claim("fifo.capacity")
@pytest.mark.parametrize("how", MAKERS)
def test_writer_sleeps_when_full(how, ipc, spawn, observe, kernel, privilege):
    """A write one byte larger than the capacity (16 pages: 65536 bytes on 4 KiB pages) to a FIFO
    whose reader never reads leaves the capacity in it and sleeps in write(), alive."""
    allowed = pipes.expected_capacities(kernel, privilege.capabilities)
    expected = max(allowed)  # the default; a smaller one only for a user over the soft limit
    path = make_fifo(ipc, how)
    writer = spawn(_fill, path, expected + 1, name="writer")
    # Opened after the fork (the writer holds no reader of its own); held open, not read, until measured.
    rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        writer.wait_blocked("write", what=f"writer of {expected + 1} bytes")
        held, capacity = pipes.queued(rfd), pipes.capacity(rfd)
        alive = writer.alive()
        observe("capacity", held)
        observe("F_GETPIPE_SZ", capacity)
        observe("writer_alive_while_full", alive)
        assert held == capacity in allowed and alive, (
            f"expected {' or '.join(map(str, sorted(allowed)))} bytes in the FIFO (as F_GETPIPE_SZ "
            f"says) and the writer asleep in write(), not killed; "
            f"the FIFO holds {held} (F_GETPIPE_SZ {capacity}) and the writer is "
            f"{'alive' if alive else 'gone: ' + str(writer.result(1))}"
            + (" (since 4.5 a FIFO of 1 page, 2 pages since 5.14, means this user is over "
               "fs.pipe-user-pages-soft)" if capacity < expected and kernel.at_least(4, 5) else ""))
        # Reading makes room: the same write(2) completes with every byte, no signal.
        _drain(rfd, expected + 1)
        written = writer.value(timeout=2)
    finally:
        os.close(rfd)
    observe("write_returned", written)
    assert written == expected + 1, f"expected the resumed write() to return {expected + 1}, it returned {written}"
