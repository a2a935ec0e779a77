"""socketpair.duplex: socketpair(AF_UNIX, SOCK_STREAM) is a full-duplex pipe."""
import errno
import os
import select
import socket
import time

import pytest

from fixtures import libc
from fixtures.expect import fails_with
from fixtures.pipes import fill

TRANSFER = 1 << 20  # several times a socket buffer each way: only a full-duplex channel completes it


def _exchange(sock: socket.socket, mine: bytes, total: int, timeout: float = 5.0) -> dict:
    """Send total bytes of `mine` while receiving whatever the peer sends, until its EOF.

    Neither side waits for the other to finish writing before reading: with both
    transfers larger than the socket buffers, this only completes if both directions
    flow at the same time."""
    fd = sock.fileno()
    os.set_blocking(fd, False)
    block = mine * 65536
    sent, received, early = 0, {}, 0
    deadline = time.monotonic() + timeout
    eof = False
    while not eof or sent < total:
        if time.monotonic() > deadline:
            raise AssertionError(f"exchange stalled: sent {sent} of {total}, received "
                                 f"{sum(received.values())} bytes within {timeout}s")
        readable, writable, _ = select.select([] if eof else [fd],
                                              [fd] if sent < total else [], [], 1.0)
        if writable:
            try:
                sent += libc.write(fd, block[:total - sent])
            except BlockingIOError:
                pass
            if sent == total:
                sock.shutdown(socket.SHUT_WR)  # the peer's EOF
        if readable:
            try:
                chunk = libc.read(fd, 65536)
            except BlockingIOError:
                continue
            eof = not chunk
            if sent < total:
                early += len(chunk)
            for byte in set(chunk):
                key = chr(byte)
                received[key] = received.get(key, 0) + chunk.count(byte)
    return {"sent": sent, "received": received, "received_while_sending": early}


@pytest.mark.claim("socketpair.duplex")
def test_both_directions_at_once(spawn, observe):
    """Parent and child each send 1 MiB to the other while receiving the other's 1 MiB."""
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with parent_end, child_end:
        def child():
            parent_end.close()
            return _exchange(child_end, b"C", TRANSFER)
        peer = spawn(child, name="child end of the socketpair")
        child_end.close()
        mine = _exchange(parent_end, b"P", TRANSFER)
        theirs = peer.value(5)
    observe("bytes_each_way", TRANSFER)
    observe("parent_received", mine["received"])
    observe("child_received", theirs["received"])
    observe("parent_received_while_sending", mine["received_while_sending"], run_specific=True)
    observe("child_received_while_sending", theirs["received_while_sending"], run_specific=True)
    assert (mine["received"], theirs["received"]) == ({"C": TRANSFER}, {"P": TRANSFER}), (
        f"expected each end to receive exactly the peer's {TRANSFER} bytes and none of its own, "
        f"parent received {mine['received']}, child received {theirs['received']}")


@pytest.mark.claim("socketpair.duplex")
def test_each_direction_has_its_own_buffer(observe):
    """With a→b full, b→a still carries data, a never reads its own bytes, and a→b's data is intact."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with a, b:
        fa, fb = a.fileno(), b.fileno()
        os.set_blocking(fa, False)
        os.set_blocking(fb, False)
        queued = fill(fa, 4096, to_the_byte=True)
        full = fails_with(errno.EAGAIN, libc.write, fa, b"a",
                          what=f"write on end a after it queued {queued} bytes towards b")
        own = fails_with(errno.EAGAIN, libc.read, fa, 1,
                         what="read on end a, which only wrote")
        back = libc.write(fb, b"b->a while a->b is full")
        got_back = libc.read(fa, 64)
        drained = 0
        while True:
            try:
                chunk = libc.read(fb, 65536)
            except BlockingIOError:
                break
            assert set(chunk) <= {ord("x")}, f"b read bytes it did not expect: {set(chunk)}"
            drained += len(chunk)
    observe("queued_a_to_b", queued)
    observe("write_when_full", libc.errno_name(full.errno))
    observe("read_own_data", libc.errno_name(own.errno))
    observe("reverse_bytes", back)
    assert got_back == b"b->a while a->b is full", (
        f"expected a to read b's message while a->b is full, it read {got_back!r}")
    assert drained == queued, f"expected b to drain the {queued} bytes a queued, it read {drained}"
