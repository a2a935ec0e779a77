"""sysvshm.share: bytes one process writes into an attached segment are read by another process
that attached it, in both directions, with no call in between."""
import pytest

import sysvshm_helpers as shm

SIZE = 4096


def _peer(shmid, to_parent, from_parent):
    with shm.attached(shmid) as addr:  # its own attachment (forked before the parent attached)
        shm.write(addr, b"from the child")
        to_parent.send("written")
        from_parent.recv(timeout=2, what="the parent")
        return shm.read(addr, 15)


@pytest.mark.claim("sysvshm.share")
def test_writes_are_seen_by_the_other(ipc, spawn, channel, observe):
    """The child writes through its attachment, the parent reads it through its own; the parent
    writes, the child reads it."""
    shmid = ipc.shm(SIZE)
    to_parent, from_parent = channel(), channel()
    child = spawn(_peer, shmid, to_parent, from_parent, name="attached peer")
    with shm.attached(shmid) as addr:
        to_parent.recv(timeout=2, what="the attached peer")
        seen = shm.read(addr, 14)
        shm.write(addr, b"from the parent")
        from_parent.send("written")
        back = child.value(timeout=2)
    observe("parent read", seen.decode(errors="replace"))
    observe("child read", back.decode(errors="replace"))
    assert seen == b"from the child", (
        f"expected the parent to read the child's b'from the child', it read {seen!r}")
    assert back == b"from the parent", (
        f"expected the child to read the parent's b'from the parent', it read {back!r}")
