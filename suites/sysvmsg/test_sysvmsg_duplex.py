"""sysvmsg.duplex_by_type: one queue carries both directions when each side receives only the other's type."""
import pytest

from fixtures import libc, sysv

TO_CHILD, TO_PARENT = 1, 2


def child_side(msqid):
    """Send our two messages first, then take the two meant for us."""
    for text in (b"c1", b"c2"):
        libc.msgsnd(msqid, TO_PARENT, text)
    return [libc.msgrcv(msqid, 16, TO_CHILD) for _ in range(2)]


@pytest.mark.claim("sysvmsg.duplex_by_type")
def test_two_directions_one_queue(ipc, spawn, observe):
    """Parent and child both send before receiving; each gets exactly the other's messages, in order."""
    msqid = ipc.msgq()
    for text in (b"p1", b"p2"):
        libc.msgsnd(msqid, TO_CHILD, text)
    child_got = spawn(child_side, msqid, name="child end").value(timeout=2)
    parent_got = [libc.msgrcv(msqid, 16, TO_PARENT, libc.IPC_NOWAIT) for _ in range(2)]
    left = sysv.stat("msg", msqid).qnum
    observe("child_received", [t.decode() for _, t in child_got])
    observe("parent_received", [t.decode() for _, t in parent_got])
    expected = ([(TO_CHILD, b"p1"), (TO_CHILD, b"p2")], [(TO_PARENT, b"c1"), (TO_PARENT, b"c2")], 0)
    assert (child_got, parent_got, left) == expected, (
        f"expected the child to get p1, p2 and the parent c1, c2, queue then empty; "
        f"child got {child_got}, parent got {parent_got}, {left} left")
