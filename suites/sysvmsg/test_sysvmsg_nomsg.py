"""sysvmsg.rcv.nomsg: no matching message: ENOMSG with IPC_NOWAIT, otherwise msgrcv blocks until one arrives."""
import errno

import pytest

from fixtures import libc, sysv
from fixtures.expect import fails_with

# What is already queued: nothing, or only messages of a type the receiver does not ask for.
QUEUED = {"empty": [], "other_types": [(1, b"one"), (3, b"three")]}


@pytest.mark.claim("sysvmsg.rcv.nomsg")
@pytest.mark.parametrize("queued", QUEUED.values(), ids=QUEUED.keys())
def test_nowait_enomsg(ipc, observe, queued):
    """msgrcv(type 2, IPC_NOWAIT) with no type-2 message queued fails with ENOMSG and takes nothing."""
    msqid = ipc.msgq()
    for mtype, text in queued:
        libc.msgsnd(msqid, mtype, text)
    err = fails_with(errno.ENOMSG, libc.msgrcv, msqid, 64, 2, libc.IPC_NOWAIT,
                     what="msgrcv(type 2, IPC_NOWAIT) with no type-2 message")
    observe("errno", libc.errno_name(err.errno))
    qnum = sysv.stat("msg", msqid).qnum
    assert qnum == len(queued), f"expected the failed msgrcv to leave {len(queued)} messages, msg_qnum is {qnum}"


@pytest.mark.claim("sysvmsg.rcv.nomsg")
@pytest.mark.parametrize("queued", QUEUED.values(), ids=QUEUED.keys())
def test_blocks_until_match(ipc, spawn, observe, queued):
    """Without IPC_NOWAIT the receiver sleeps in msgrcv until a type-2 message is sent, then returns it."""
    msqid = ipc.msgq()
    for mtype, text in queued:
        libc.msgsnd(msqid, mtype, text)
    receiver = spawn(libc.msgrcv, msqid, 64, 2, name="receiver")
    receiver.wait_blocked("msgrcv", what="receiver of a type with no message")
    libc.msgsnd(msqid, 2, b"two")
    got = receiver.value(timeout=2)
    observe("received", [got[0], got[1].decode()])
    assert got == (2, b"two"), f"expected the blocked receiver to get (2, b'two'), it got {got}"
