"""sysvmsg.qbytes_raise: msg_qbytes may be lowered, or raised up to MSGMNB, by the owner; above MSGMNB needs CAP_SYS_RESOURCE."""

import pytest

import sysvmsg_helpers as mq
from fixtures import libc, sysv
from fixtures.kernel import has_capability
from fixtures.procs import ChildTimeout

# (msg_qbytes set first, msg_qbytes then asked for) as fractions/offsets of msgmnb.
CASES = {
    "lower": (None, lambda mnb: mnb // 2),
    "raise_back_to_msgmnb": (lambda mnb: mnb // 2, lambda mnb: mnb),
    "raise_above_msgmnb": (None, lambda mnb: mnb + 1),
}


def set_qbytes(msqid, msgmnb, first, target):
    """IPC_SET the queue's msg_qbytes (after `first`, if any): (errno name or 'ok', msg_qbytes after, privileged)."""
    if first is not None:
        mq.set_qbytes(msqid, first(msgmnb))
    try:
        mq.set_qbytes(msqid, target(msgmnb))
        outcome = "ok"
    except OSError as exc:
        outcome = libc.errno_name(exc.errno)
    return outcome, sysv.stat("msg", msqid).qbytes, has_capability("CAP_SYS_RESOURCE")


def own_queue(ch, key, msgmnb, first, target):
    """In the unprivileged child: make a queue of our own (its id goes home at once), then set it."""
    msqid = libc.msgget(key, libc.IPC_CREAT | libc.IPC_EXCL | 0o600)
    ch.send(msqid)
    return set_qbytes(msqid, msgmnb, first, target)


def check(case, msgmnb, outcome, qbytes, privileged):
    first, target = CASES[case]
    wanted = target(msgmnb)
    if case == "raise_above_msgmnb" and not privileged:
        expected = ("EPERM", first(msgmnb) if first else msgmnb)
    else:
        expected = ("ok", wanted)
    assert (outcome, qbytes) == expected, (
        f"expected IPC_SET msg_qbytes={wanted} (msgmnb {msgmnb}) "
        f"{'with' if privileged else 'without'} CAP_SYS_RESOURCE to give {expected[0]} and leave "
        f"msg_qbytes {expected[1]}, kernel gave {outcome} and msg_qbytes {qbytes}")


@pytest.mark.claim("sysvmsg.qbytes_raise")
@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_this_process(ipc, kernel, observe, case):
    """The owner sets msg_qbytes on its own queue; above msgmnb the result follows our CAP_SYS_RESOURCE."""
    msgmnb = kernel.limit("kernel/msgmnb")
    outcome, qbytes, privileged = set_qbytes(ipc.msgq(), msgmnb, *CASES[case])
    observe("CAP_SYS_RESOURCE", privileged)
    observe("result", outcome)
    observe("qbytes", qbytes)
    check(case, msgmnb, outcome, qbytes, privileged)


@pytest.mark.claim("sysvmsg.qbytes_raise")
@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_unprivileged_owner(ipc, kernel, privilege, channel, observe, case):
    """An unprivileged user sets msg_qbytes on a queue it made: lowering and raising to msgmnb work, above gives EPERM."""
    msgmnb = kernel.limit("kernel/msgmnb")
    ch = channel()
    result = privilege.unprivileged(own_queue, ch, ipc.key(), msgmnb, *CASES[case])
    try:
        msqid = ch.recv(timeout=0.5, what="unprivileged child making its queue")
    except ChildTimeout:
        result.unwrap()  # the child failed before making the queue: its error is the verdict
        raise
    ipc.adopt_sysv("sysv_msg", msqid)
    outcome, qbytes, privileged = result.unwrap()
    observe("CAP_SYS_RESOURCE", privileged)
    observe("result", outcome)
    observe("qbytes", qbytes)
    assert not privileged, "privilege.unprivileged ran the child with CAP_SYS_RESOURCE"
    check(case, msgmnb, outcome, qbytes, privileged)
