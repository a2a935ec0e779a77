"""fifo.deadlock: two processes that each open their read FIFO first both sleep in open(); matching order completes."""
import os
import select

import pytest

from fifo_helpers import STEP_BOUND
from fixtures import libc


def _read_end_first(read_path, write_path, progress, finish):
    rfd = os.open(read_path, os.O_RDONLY)  # step 1: waits for a writer of read_path
    progress.send("step 1 done")
    wfd = os.open(write_path, os.O_WRONLY)  # step 2
    progress.send("step 2 done")
    # Both ends stay open until the partner has its own: closing early would strand it.
    finish.recv(timeout=STEP_BOUND, what="the parent's finish")
    os.close(wfd)
    os.close(rfd)
    return "both ends open"


def _nothing_sent(ch) -> bool:
    ready, _, _ = select.select([ch.r], [], [], 0)
    return not ready


@pytest.mark.claim("fifo.deadlock")
def test_read_first_on_both_sides_deadlocks(ipc, spawn, channel, observe):
    """A opens FIFO1 to read, B opens FIFO2 to read: both sleep in their first open(), until a third party writes."""
    fifo1, fifo2 = ipc.fifo(stem="fifo1"), ipc.fifo(stem="fifo2")
    a_progress, b_progress, a_finish, b_finish = channel(), channel(), channel(), channel()
    a = spawn(_read_end_first, fifo1, fifo2, a_progress, a_finish, name="A (reads FIFO1 first)")
    b = spawn(_read_end_first, fifo2, fifo1, b_progress, b_finish, name="B (reads FIFO2 first)")
    a.wait_blocked("open", what="A in open(FIFO1, O_RDONLY)")
    b.wait_blocked("open", what="B in open(FIFO2, O_RDONLY)")
    # A step-1 report would be in its channel before the child entered step 2's open().
    stuck_at_step_1 = _nothing_sent(a_progress) and _nothing_sent(b_progress)
    observe("both_blocked_in_first_open", stuck_at_step_1)
    assert stuck_at_step_1, "expected A and B both asleep in their first open(); one of them got past it"
    # Release: a third process (the parent) opens FIFO1 for writing. A gets past step 1 and
    # opens FIFO2 for writing, which pairs with B's waiting read; B then pairs with A on FIFO1.
    w1 = os.open(fifo1, os.O_WRONLY | os.O_NONBLOCK)
    try:
        steps = [ch.recv(timeout=2, what=who) for ch, who in
                 ((a_progress, "A"), (a_progress, "A"), (b_progress, "B"), (b_progress, "B"))]
    finally:
        os.close(w1)
    a_finish.send("done")
    b_finish.send("done")
    results = (a.value(timeout=2), b.value(timeout=2))
    observe("released_by_third_writer", results == ("both ends open",) * 2)
    assert steps == ["step 1 done", "step 2 done"] * 2, f"expected both to finish both opens, they reported {steps}"


def _a_writes_first(fifo1, fifo2):
    wfd = os.open(fifo1, os.O_WRONLY)
    rfd = os.open(fifo2, os.O_RDONLY)
    libc.write(wfd, b"ping")
    os.close(wfd)
    try:
        return libc.read(rfd, 64)
    finally:
        os.close(rfd)


def _b_reads_first(fifo1, fifo2):
    rfd = os.open(fifo1, os.O_RDONLY)
    wfd = os.open(fifo2, os.O_WRONLY)
    request = libc.read(rfd, 64)
    libc.write(wfd, b"pong to " + request)
    os.close(wfd)
    os.close(rfd)
    return request


@pytest.mark.claim("fifo.deadlock")
def test_matching_order_completes(ipc, spawn, observe):
    """A writes FIFO1 then reads FIFO2 while B reads FIFO1 then writes FIFO2: both opens pair up and a round trip completes."""
    fifo1, fifo2 = ipc.fifo(stem="fifo1"), ipc.fifo(stem="fifo2")
    a = spawn(_a_writes_first, fifo1, fifo2, name="A (writes FIFO1 first)")
    b = spawn(_b_reads_first, fifo1, fifo2, name="B (reads FIFO1 first)")
    # Bounded: in matching order nobody waits for a process that waits for it.
    reply, request = a.value(timeout=2), b.value(timeout=2)
    observe("round_trip", reply.decode())
    assert (request, reply) == (b"ping", b"pong to ping"), (
        f"expected B to read b'ping' and A to get b'pong to ping', they got {request!r} and {reply!r}")
