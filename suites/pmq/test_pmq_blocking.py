"""pmq.blocking: mq_send blocks on a full queue and mq_receive on an empty one; with O_NONBLOCK both
fail with EAGAIN."""
import errno
import os

import pytest

from fixtures import libc, mqueue
from fixtures.expect import fails_with

RECEIVES = {"mq_receive": lambda mqd, size: mqueue.mq_receive(mqd, size),
            "mq_timedreceive": lambda mqd, size: mqueue.mq_timedreceive(mqd, size, seconds=30)}
SENDS = {"mq_send": lambda mqd, data: mqueue.mq_send(mqd, data, 1),
         "mq_timedsend": lambda mqd, data: mqueue.mq_timedsend(mqd, data, 1, seconds=30)}


def _receive(name, call, size):
    mqd = mqueue.mq_open(name, os.O_RDONLY)
    return RECEIVES[call](mqd, size)


def _send(name, call):
    mqd = mqueue.mq_open(name, os.O_WRONLY)
    SENDS[call](mqd, b"late")
    return "sent"


@pytest.mark.claim("pmq.blocking")
@pytest.mark.parametrize("call", list(RECEIVES))
def test_receive_on_empty_queue_sleeps(mq, spawn, observe, call):
    """A receiver of an empty queue sleeps in mq_timedreceive until a message is sent, then returns it."""
    q = mq.create(2, 16)
    receiver = spawn(_receive, q.name, call, 16, name=f"{call} on an empty queue")
    receiver.wait_blocked("mq_receive", what=f"{call} on an empty queue")
    q.send(b"wake", 2)
    got = receiver.value(timeout=5)
    assert got == (b"wake", 2), f"expected the sleeping receiver to get (b'wake', 2), it got {got}"


@pytest.mark.claim("pmq.blocking")
@pytest.mark.parametrize("call", list(SENDS))
def test_send_on_full_queue_sleeps(mq, spawn, observe, call):
    """A sender to a full queue sleeps in mq_timedsend until a message is taken, then queues its own."""
    q = mq.create(1, 16)
    q.send(b"fill")
    sender = spawn(_send, q.name, call, name=f"{call} to a full queue")
    sender.wait_blocked("mq_send", what=f"{call} to a full queue")
    assert q.receive(16) == (b"fill", 0), "expected the message that filled the queue first"
    assert sender.value(timeout=5) == "sent", "expected the sleeping sender to finish once there was room"
    got = q.receive(16)
    assert got == (b"late", 1), f"expected the woken sender's message (b'late', 1), the queue held {got}"


@pytest.mark.claim("pmq.blocking")
def test_nonblocking_receive_on_empty_is_eagain(mq, observe):
    """With O_NONBLOCK, mq_receive on an empty queue fails with EAGAIN at once."""
    q = mq.create(1, 16, flags=os.O_NONBLOCK)
    err = fails_with(errno.EAGAIN, mqueue.mq_receive, q.mqd, 16,
                     what="mq_receive on an empty O_NONBLOCK queue")
    observe("O_NONBLOCK receive on empty", libc.errno_name(err.errno))


@pytest.mark.claim("pmq.blocking")
def test_nonblocking_send_on_full_is_eagain(mq, observe):
    """With O_NONBLOCK, mq_send on a full queue fails with EAGAIN at once and queues nothing."""
    q = mq.create(1, 16, flags=os.O_NONBLOCK)
    q.send(b"fill")
    err = fails_with(errno.EAGAIN, q.send, b"more", what="mq_send on a full O_NONBLOCK queue")
    observe("O_NONBLOCK send on full", libc.errno_name(err.errno))
    assert q.curmsgs() == 1, f"expected only the first message queued, mq_curmsgs is {q.curmsgs()}"
