"""pmq.close: mq_close does not remove the queue."""
import errno

import pytest

from fixtures import mqueue
from fixtures.expect import fails_with, succeeds


@pytest.mark.claim("pmq.close")
def test_close_keeps_queue_and_messages(mq, observe):
    """After the only descriptor is closed, mq_open of the name finds the queue with its message."""
    q = mq.create(2, 16)
    q.send(b"kept", 4)
    mq.close(q)
    fails_with(errno.EBADF, mqueue.mq_getattr, q.mqd, what="mq_getattr on the closed descriptor")
    again = succeeds(mq.open, q.name, what=f"mq_open({q.name!r}) after mq_close of its last descriptor")
    got = again.receive()
    observe("message after close and reopen", got[0].decode())
    assert got == (b"kept", 4), f"expected the queue to keep (b'kept', 4) across mq_close, it held {got}"
