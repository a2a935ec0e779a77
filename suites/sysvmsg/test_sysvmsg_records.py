"""sysvmsg.records: message boundaries are kept. sysvmsg.rcv.count: msgrcv returns the mtext byte count."""
import pytest

import sysvmsg_helpers as mq
from fixtures import libc

SIZES = [1, 0, 7, 300, 2]


@pytest.mark.claim("sysvmsg.records")
@pytest.mark.parametrize("key", mq.CREATE.values(), ids=mq.CREATE.keys())
def test_one_message_per_receive(ipc, observe, key):
    """Messages of several lengths come back one per msgrcv, each exactly as sent, even into a large buffer."""
    msqid = ipc.msgq(key=key)
    sent = [bytes([65 + i]) * n for i, n in enumerate(SIZES)]
    for text in sent:
        libc.msgsnd(msqid, 1, text)
    got = [libc.msgrcv(msqid, 4096, 0, libc.IPC_NOWAIT)[1] for _ in sent]
    observe("received_lengths", [len(t) for t in got])
    assert got == sent, (f"expected {len(sent)} receives to return the messages of lengths {SIZES} "
                         f"as sent, kernel returned lengths {[len(t) for t in got]}")


@pytest.mark.claim("sysvmsg.rcv.count")
@pytest.mark.parametrize("size", [0, 1, 5, 100], ids=lambda n: f"{n}_bytes")
def test_count_excludes_mtype(ipc, observe, size):
    """msgrcv returns the length of mtext alone, the sizeof(long) mtype not counted."""
    msqid = ipc.msgq()
    libc.msgsnd(msqid, 7, b"x" * size)
    count = libc.msgrcv_count(msqid, 4096, 0, libc.IPC_NOWAIT)
    observe("count", count)
    assert count == size, (f"expected msgrcv to return {size} (mtext only), kernel returned {count}"
                           + (" (mtext + mtype)" if count == size + mq.LONG else ""))
