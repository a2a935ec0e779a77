"""sysvmsg.rmid: IPC_RMID removes the queue at once and discards its messages."""
import errno

import pytest

from fixtures import libc, sysv
from fixtures.expect import fails_with


@pytest.mark.claim("sysvmsg.rmid")
def test_rmid_discards(ipc, observe):
    """After IPC_RMID of a queue holding messages, its id gives EINVAL and the same key makes a new, empty queue."""
    key = ipc.key()
    msqid = ipc.msgq(key=key)
    for n in range(3):
        libc.msgsnd(msqid, 1 + n, b"kept?")
    sysv.rmid("msg", msqid)
    err = fails_with(errno.EINVAL, libc.msgrcv, msqid, 64, 0, libc.IPC_NOWAIT,
                     what="msgrcv on the removed queue's id")
    observe("errno_after_rmid", libc.errno_name(err.errno))
    fails_with(errno.EINVAL, sysv.stat, "msg", msqid, what="IPC_STAT on the removed queue's id")
    fails_with(errno.ENOENT, libc.msgget, key, 0, what="msgget of the removed queue's key")
    again = ipc.msgq(key=key)
    ds = sysv.stat("msg", again)
    observe("ids", {"removed": msqid, "recreated": again}, run_specific=True)
    assert (ds.qnum, ds.cbytes) == (0, 0), (
        f"expected the queue made again with the same key to be empty, it holds {ds.qnum} messages")
