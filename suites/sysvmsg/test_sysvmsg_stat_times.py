"""sysvmsg.stat_times: msgsnd sets lspid and stime, msgrcv sets lrpid and rtime."""
import os
import time

import pytest

from fixtures import libc, sysv


def send(msqid):
    libc.msgsnd(msqid, 1, b"x", libc.IPC_NOWAIT)
    return os.getpid()


def receive(msqid):
    libc.msgrcv(msqid, 8, 0, libc.IPC_NOWAIT)
    return os.getpid()


def within(stamp, before, after):
    # whole seconds from the kernel's coarse clock, which may trail time.time() by a tick
    return int(before) - 1 <= stamp <= after


@pytest.mark.claim("sysvmsg.stat_times")
def test_send_then_receive(ipc, spawn, observe):
    """A sender child's msgsnd sets lspid/stime (lrpid/rtime stay 0); a receiver child's msgrcv sets lrpid/rtime."""
    msqid = ipc.msgq()
    before = time.time()
    sender = spawn.run(send, msqid).unwrap()
    sent = sysv.stat("msg", msqid)
    receiver = spawn.run(receive, msqid).unwrap()
    received = sysv.stat("msg", msqid)
    after = time.time()
    got = {"after_send": {"lspid": sent.lspid, "lrpid": sent.lrpid, "stime": sent.stime, "rtime": sent.rtime},
           "after_receive": {"lspid": received.lspid, "lrpid": received.lrpid,
                             "stime": received.stime, "rtime": received.rtime}}
    observe("msqid_ds", got, run_specific=True)
    observe("pids", {"sender": sender, "receiver": receiver}, run_specific=True)
    ok = (sent.lspid == sender and sent.lrpid == 0 and sent.rtime == 0 and within(sent.stime, before, after)
          and received.lspid == sender and received.lrpid == receiver and received.stime == sent.stime
          and within(received.rtime, before, after))
    assert ok, (f"expected lspid={sender} and stime set by msgsnd, then lrpid={receiver} and rtime set by msgrcv "
                f"(times in {int(before)}..{after:.0f}), IPC_STAT says {got}")
