"""sysvshm.fork: a forked child inherits its parent's attachments: shm_nattch goes up by one while it
lives, it sees the segment at the same address, and its writes there reach the parent."""
import os

import pytest

import sysvshm_helpers as shm

SIZE = 4096


def _inherited(addr, report, go):
    got = shm.read(addr, 6)
    shm.write(addr, b"child!")
    report.send(got)
    go.recv(timeout=2, what="the parent")
    return os.getpid()


@pytest.mark.claim("sysvshm.fork")
def test_child_inherits_attachment(ipc, spawn, channel, observe):
    """nattch is 1 before the fork, 2 while the child lives, 1 after it exits; the child reads the
    parent's bytes at the inherited address and writes back through it."""
    shmid = ipc.shm(SIZE)
    report, go = channel(), channel()
    with shm.attached(shmid) as addr:
        shm.write(addr, b"parent")
        counts = [shm.fields(shmid)["nattch"]]
        child = spawn(_inherited, addr, report, go, name="forked child")
        got = report.recv(timeout=2, what="the forked child")
        counts.append(shm.fields(shmid)["nattch"])
        back = shm.read(addr, 6)
        go.send("exit")
        child.value(timeout=2)
        counts.append(shm.fields(shmid)["nattch"])
    observe("nattch before fork, with the child, after it exited", counts)
    assert counts == [1, 2, 1], f"expected nattch 1, 2 with the forked child, then 1, kernel gave {counts}"
    assert (got, back) == (b"parent", b"child!"), (
        f"expected the child to read b'parent' at the inherited address and the parent to read its "
        f"b'child!', they read {got!r} and {back!r}")
