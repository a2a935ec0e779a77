"""msgrcv type rules: sysvmsg.rcv.type_zero / type_positive / type_negative / except, and
sysvmsg.type_positive (msgsnd refuses mtype <= 0 with EINVAL)."""
import errno

import pytest

import sysvmsg_helpers as mq
from fixtures import libc, sysv
from fixtures.expect import fails_with

# Loaded in this order. Type 2 appears twice and type 1 never, so "first of the
# lowest type" and "first of that type" are told apart from "first message".
QUEUE = [(3, b"a"), (2, b"b"), (4, b"c"), (2, b"d"), (5, b"e")]


def case(cid, msgtyp, flags, expected, label):
    return pytest.param(msgtyp, flags, expected, id=f"{cid}-{label}", marks=pytest.mark.claim(cid))


@pytest.mark.parametrize("msgtyp, flags, expected", [
    case("sysvmsg.rcv.type_zero", 0, 0, b"a", "0_first"),
    case("sysvmsg.rcv.type_positive", 2, 0, b"b", "2_first_of_2"),
    case("sysvmsg.rcv.type_positive", 4, 0, b"c", "4_behind_others"),
    case("sysvmsg.rcv.type_positive", 5, 0, b"e", "5_last"),
    case("sysvmsg.rcv.type_negative", -2, 0, b"b", "minus2_first_of_2"),
    case("sysvmsg.rcv.type_negative", -4, 0, b"b", "minus4_lowest_is_2"),
    case("sysvmsg.rcv.type_negative", -100, 0, b"b", "minus100_lowest_is_2"),
    case("sysvmsg.rcv.type_negative", -3, 0, b"b", "minus3_not_first_3"),
    case("sysvmsg.rcv.except", 3, libc.MSG_EXCEPT, b"b", "except3"),
    case("sysvmsg.rcv.except", 2, libc.MSG_EXCEPT, b"a", "except2"),
    case("sysvmsg.rcv.except", 1, libc.MSG_EXCEPT, b"a", "except_absent_type"),
])
def test_msgrcv_picks(ipc, observe, msgtyp, flags, expected):
    """With the queue loaded as QUEUE, msgrcv(msgtyp) takes the documented message and leaves the rest in order."""
    msqid = ipc.msgq()
    for mtype, text in QUEUE:
        libc.msgsnd(msqid, mtype, text)
    mtype, text = libc.msgrcv(msqid, 16, msgtyp, flags | libc.IPC_NOWAIT)
    rest = mq.drain(msqid)
    observe("received", f"type {mtype} {text.decode()}")
    want = dict((t, m) for m, t in QUEUE)[expected]
    assert (mtype, text) == (want, expected), (
        f"expected msgrcv(msgtyp={msgtyp}{', MSG_EXCEPT' if flags else ''}) on {QUEUE} to take "
        f"({want}, {expected!r}), kernel gave ({mtype}, {text!r})")
    left = [m for m in QUEUE if m != (want, expected)]
    assert rest == left, f"expected the other messages to stay in order {left}, queue holds {rest}"


@pytest.mark.claim("sysvmsg.type_positive")
@pytest.mark.parametrize("mtype", [0, -1, -(2 ** (8 * mq.LONG - 1))], ids=["zero", "minus1", "LONG_MIN"])
def test_nonpositive_mtype_einval(ipc, observe, mtype):
    """msgsnd with mtype <= 0 fails with EINVAL and leaves the queue empty, while mtype 1 is accepted."""
    msqid = ipc.msgq()
    err = fails_with(errno.EINVAL, libc.msgsnd, msqid, mtype, b"x", libc.IPC_NOWAIT,
                     what=f"msgsnd with mtype {mtype}")
    observe("errno", libc.errno_name(err.errno))
    libc.msgsnd(msqid, 1, b"x", libc.IPC_NOWAIT)
    qnum = sysv.stat("msg", msqid).qnum
    assert qnum == 1, f"expected only the mtype 1 message on the queue, msg_qnum is {qnum}"
