"""sysvmsg.eidrm: a msgsnd or msgrcv blocked on a queue fails with EIDRM when the queue is removed."""
import errno

import pytest

import sysvmsg_helpers as mq
from fixtures import libc


def blocked_receiver(msqid):
    mq.msgrcv(msqid, 64, 0)


def blocked_sender(msqid):
    mq.set_qbytes(msqid, 4)  # a 4-byte queue, so the 5-byte send below must wait
    mq.msgsnd(msqid, 1, b"full", libc.IPC_NOWAIT)
    mq.msgsnd(msqid, 1, b"waits")


@pytest.mark.claim("sysvmsg.eidrm")
@pytest.mark.parametrize("call, syscall", [(blocked_receiver, "msgrcv"), (blocked_sender, "msgsnd")],
                         ids=["msgrcv", "msgsnd"])
def test_rmid_wakes_with_eidrm(ipc, spawn, observe, call, syscall):
    """The parent removes the queue while the child sleeps in the call; the child's call fails with EIDRM."""
    msqid = ipc.msgq()
    child = spawn(call, msqid, name=f"{syscall} caller")
    child.wait_blocked(syscall, what=f"{syscall} on an {'empty' if syscall == 'msgrcv' else 'full'} queue")
    mq.rmid(msqid)
    result = child.result(timeout=2)
    observe("errno", libc.errno_name(result.errno))
    assert result.errno == errno.EIDRM, (
        f"expected the blocked {syscall} to fail with EIDRM after IPC_RMID, the child {result}")
