"""sysvmsg.msgmax: a message longer than msgmax fails with EINVAL; one of exactly msgmax bytes is accepted."""
import errno

import pytest

from fixtures import libc, sysv
from fixtures.expect import fails_with, succeeds


@pytest.mark.claim("sysvmsg.msgmax")
def test_longer_than_msgmax(ipc, kernel, observe):
    """msgsnd of msgmax + 1 bytes fails with EINVAL (not EAGAIN: the queue has room); msgmax bytes go in."""
    msgmax = kernel.limit("kernel/msgmax")
    msqid = ipc.msgq()
    observe("msgmax", msgmax)
    # msgmax is checked before queue room; a full queue would give EAGAIN, not EINVAL.
    qbytes = sysv.stat("msg", msqid).qbytes
    observe("qbytes", qbytes)
    err = fails_with(errno.EINVAL, libc.msgsnd, msqid, 1, b"m" * (msgmax + 1), libc.IPC_NOWAIT,
                     what=f"msgsnd of msgmax + 1 = {msgmax + 1} bytes")
    observe("errno", libc.errno_name(err.errno))
    if qbytes >= msgmax:  # a msgmax-byte message fits only if msgmnb >= msgmax
        succeeds(libc.msgsnd, msqid, 1, b"m" * msgmax, libc.IPC_NOWAIT, what=f"msgsnd of msgmax = {msgmax} bytes")
        count = libc.msgrcv_count(msqid, msgmax, 0, libc.IPC_NOWAIT)
        assert count == msgmax, f"expected the {msgmax}-byte message back whole, msgrcv returned {count}"
