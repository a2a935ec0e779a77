"""pmq.whole_message: a receive takes one whole message; a buffer smaller than mq_msgsize fails with
EMSGSIZE."""
import errno

import pytest

from fixtures import libc, mqueue
from fixtures.expect import fails_with

MSGSIZE = 64


@pytest.mark.claim("pmq.whole_message")
def test_each_receive_takes_one_whole_message(mq, observe):
    """Three messages of different lengths (1 byte, mq_msgsize, 7 bytes) come back one per receive, each whole."""
    q = mq.create(3, MSGSIZE)
    size = q.attr().mq_msgsize
    sent = [b"x", bytes(i % 251 for i in range(size)), b"seven!!"]
    for data in sent:
        q.send(data)
    got = [q.receive(size + 100)[0] for _ in sent]  # a buffer larger than any message
    observe("lengths received", [len(d) for d in got])
    assert got == sent, (f"expected each receive to return one whole message {[len(d) for d in sent]} "
                         f"bytes, got {[len(d) for d in got]}")


@pytest.mark.claim("pmq.whole_message")
@pytest.mark.parametrize("short", [1, MSGSIZE // 2], ids=["1_short", "half"])
def test_small_buffer_is_emsgsize_and_message_stays(mq, observe, short):
    """A receive buffer below mq_msgsize fails with EMSGSIZE, even for a shorter message, and the message stays queued."""
    q = mq.create(2, MSGSIZE)
    size = q.attr().mq_msgsize
    q.send(b"hi", 3)
    err = fails_with(errno.EMSGSIZE, mqueue.mq_receive, q.mqd, size - short,
                     what=f"mq_receive with a {size - short}-byte buffer (mq_msgsize {size}) of a 2-byte message")
    observe("errno", libc.errno_name(err.errno))
    left = q.curmsgs()
    got = q.receive(size)
    assert (left, got) == (1, (b"hi", 3)), (
        f"expected the message to stay after EMSGSIZE (mq_curmsgs 1, then received b'hi' at priority 3); "
        f"mq_curmsgs was {left} and the next receive gave {got}")
