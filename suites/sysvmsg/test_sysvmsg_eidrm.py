"""sysvmsg.eidrm: a msgsnd or msgrcv blocked on a queue fails with EIDRM when the queue is removed."""
import errno

import pytest

import sysvmsg_helpers as mq
from fixtures import libc, sysv


@pytest.mark.claim("sysvmsg.eidrm")
@pytest.mark.parametrize("syscall", mq.BLOCKING)
def test_rmid_wakes_with_eidrm(ipc, spawn, observe, syscall):
    """The parent removes the queue while the child sleeps in the call; the child's call fails with EIDRM."""
    msqid = ipc.msgq()
    child = spawn(mq.BLOCKING[syscall], msqid, name=f"{syscall} caller")
    child.wait_blocked(syscall, what=f"{syscall} on an {'empty' if syscall == 'msgrcv' else 'full'} queue")
    sysv.rmid("msg", msqid)
    result = child.result(timeout=2)
    observe("errno", libc.errno_name(result.errno))
    assert result.errno == errno.EIDRM, (
        f"expected the blocked {syscall} to fail with EIDRM after IPC_RMID, the child {result}")
