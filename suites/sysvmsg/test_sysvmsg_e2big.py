"""sysvmsg.e2big: a message longer than msgrcv's size: E2BIG and it stays; with MSG_NOERROR it is cut and the rest lost."""
import errno

import pytest

import sysvmsg_helpers as mq
from fixtures import libc, sysv
from fixtures.expect import fails_with

TEXT = b"0123456789abcdef"  # 16 bytes, received into 8
SIZE = 8


@pytest.mark.claim("sysvmsg.e2big")
def test_too_long_e2big_stays(ipc, observe):
    """msgrcv with size 8 of a 16-byte message fails with E2BIG; the message is still first, whole."""
    msqid = ipc.msgq()
    libc.msgsnd(msqid, 1, TEXT)
    err = fails_with(errno.E2BIG, libc.msgrcv, msqid, SIZE, 0, libc.IPC_NOWAIT,
                     what=f"msgrcv of a {len(TEXT)}-byte message into {SIZE} bytes")
    observe("errno", libc.errno_name(err.errno))
    left = mq.drain(msqid)
    assert left == [(1, TEXT)], f"expected the refused message to stay queued whole, queue holds {left}"


@pytest.mark.claim("sysvmsg.e2big")
def test_noerror_truncates(ipc, observe):
    """msgrcv with MSG_NOERROR returns the first 8 bytes and count 8; the other 8 are gone from the queue."""
    msqid = ipc.msgq()
    libc.msgsnd(msqid, 1, TEXT)
    mtype, got = libc.msgrcv(msqid, SIZE, 0, libc.MSG_NOERROR | libc.IPC_NOWAIT)
    ds = sysv.stat("msg", msqid)
    observe("received", got.decode())
    observe("left", {"qnum": ds.qnum, "cbytes": ds.cbytes})
    assert got == TEXT[:SIZE], f"expected MSG_NOERROR to return {TEXT[:SIZE]!r}, kernel returned {got!r}"
    assert (ds.qnum, ds.cbytes) == (0, 0), (
        f"expected the truncated rest to be discarded (empty queue), queue holds {ds.qnum} messages, {ds.cbytes} bytes")
