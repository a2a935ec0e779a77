"""pmq.persistence: a queue outlives its creator (kernel persistence)."""
import os

import pytest

from fixtures import mqueue
from pmq_helpers import CREATE


def _create_and_exit(name):
    mqd = mqueue.mq_open(name, CREATE, 0o600, 2, 16)
    mqueue.mq_send(mqd, b"left behind", 9)
    return os.getpid()  # exits without mq_close or mq_unlink


@pytest.mark.claim("pmq.persistence")
def test_queue_outlives_creator(ipc, mq, spawn, observe):
    """A queue made by a child that exits without closing or unlinking it opens afterwards with its message."""
    name = ipc.adopt_posix("mq", ipc.name())  # adopted before the child makes it: removed at teardown
    creator = spawn(_create_and_exit, name, name="creator")
    creator.value(timeout=5)  # returns once the creator has exited and been reaped
    q = mq.open(name)
    got = q.receive()
    observe("message after the creator exited", got[0].decode())
    assert got == (b"left behind", 9), (
        f"expected the dead creator's message (b'left behind', 9) on its queue, it held {got}")
