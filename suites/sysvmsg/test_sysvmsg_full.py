"""sysvmsg.snd.full: past msg_qbytes, msgsnd with IPC_NOWAIT fails with EAGAIN; without it, blocks until room."""
import errno

import pytest

import sysvmsg_helpers as mq
from fixtures import libc, sysv
from fixtures.expect import fails_with


def fill(msqid: int, msgmax: int) -> list[int]:
    """Fill the queue to exactly msg_qbytes bytes with IPC_NOWAIT sends (none may fail)."""
    qbytes = sysv.stat("msg", msqid).qbytes
    sizes = [msgmax] * (qbytes // msgmax) + ([qbytes % msgmax] if qbytes % msgmax else [])
    for n in sizes:
        libc.msgsnd(msqid, 1, b"f" * n, libc.IPC_NOWAIT)
    return sizes


@pytest.mark.claim("sysvmsg.snd.full")
def test_nowait_eagain(ipc, kernel, observe):
    """A queue holding msg_qbytes bytes refuses one more byte with EAGAIN under IPC_NOWAIT, and keeps what it had."""
    msqid = ipc.msgq()
    sizes = fill(msqid, kernel.limit("kernel/msgmax"))
    ds = sysv.stat("msg", msqid)
    observe("qbytes", ds.qbytes)
    observe("cbytes_full", ds.cbytes)
    observe("messages_to_fill", len(sizes))
    assert ds.cbytes == ds.qbytes, f"expected the fill to reach msg_qbytes {ds.qbytes}, msg_cbytes is {ds.cbytes}"
    err = fails_with(errno.EAGAIN, libc.msgsnd, msqid, 1, b"!", libc.IPC_NOWAIT,
                     what="msgsnd(IPC_NOWAIT) of 1 byte to a queue at msg_qbytes")
    observe("errno", libc.errno_name(err.errno))
    after = sysv.stat("msg", msqid)
    assert (after.cbytes, after.qnum) == (ds.cbytes, ds.qnum), (
        f"expected the refused msgsnd to leave {ds.cbytes} bytes in {ds.qnum} messages, "
        f"queue holds {after.cbytes} in {after.qnum}")


@pytest.mark.claim("sysvmsg.snd.full")
def test_blocks_until_room(ipc, kernel, spawn, observe):
    """A sender to a full queue sleeps in msgsnd; one msgrcv makes room and its message is queued last."""
    msqid = ipc.msgq()
    sizes = fill(msqid, kernel.limit("kernel/msgmax"))
    sender = spawn(libc.msgsnd, msqid, 2, b"late", name="sender")
    sender.wait_blocked("msgsnd", what="sender to a full queue")
    libc.msgrcv(msqid, sizes[0], 0, libc.IPC_NOWAIT)
    sender.value(timeout=2)
    rest = mq.drain(msqid)
    observe("queued_after_room", len(rest))
    assert rest and rest[-1] == (2, b"late"), (
        f"expected the unblocked sender's (2, b'late') at the tail of the queue, "
        f"tail is {rest[-1][0] if rest else None}, {rest[-1][1][:8] if rest else None}")


@pytest.mark.claim("sysvmsg.snd.full")
def test_message_count_limit(ipc, observe):
    """Linux also counts messages against msg_qbytes: with msg_qbytes 4, a fifth empty message gets EAGAIN."""
    msqid = ipc.msgq()
    mq.set_qbytes(msqid, 4)  # lowering needs no privilege
    for _ in range(4):
        libc.msgsnd(msqid, 1, b"", libc.IPC_NOWAIT)
    err = fails_with(errno.EAGAIN, libc.msgsnd, msqid, 1, b"", libc.IPC_NOWAIT,
                     what="msgsnd(IPC_NOWAIT) of a fifth empty message with msg_qbytes 4")
    ds = sysv.stat("msg", msqid)
    observe("errno_count_limit", libc.errno_name(err.errno))
    observe("count_limit", {"qnum": ds.qnum, "cbytes": ds.cbytes})
