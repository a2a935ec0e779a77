"""mmap.anon_shared: a MAP_SHARED|MAP_ANONYMOUS mapping made before fork starts zeroed and is shared
with the child. mmap.dev_zero: a MAP_SHARED mapping of /dev/zero made before fork is shared the same way."""
import os

import pytest

from fixtures import shared_memory as shm
from fixtures.verdict import precondition

BEFORE, FROM_CHILD, AFTER = b"parent, before fork", b"child, after fork", b"parent, after fork"
AFTER_AT = 1024


def _anonymous(size):
    return shm.anonymous_shared(size)


def _dev_zero(size):
    with precondition("open /dev/zero"):
        fd = os.open("/dev/zero", os.O_RDWR)
    try:
        return shm.Mapping(size, shm.PROT_READ | shm.PROT_WRITE, shm.MAP_SHARED, fd)
    finally:
        os.close(fd)


KINDS = [
    pytest.param(_anonymous, id="mmap.anon_shared-anonymous", marks=pytest.mark.claim("mmap.anon_shared")),
    pytest.param(_dev_zero, id="mmap.dev_zero-dev_zero", marks=pytest.mark.claim("mmap.dev_zero")),
]


def _child_side(addr, page, up, down):
    """In the forked child: what it finds of the parent's writes, after writing its own into page 1."""
    saw_before = shm.peek(addr, len(BEFORE))
    page1_zero = shm.peek(addr + page, page) == bytes(page)
    shm.poke(addr + page, FROM_CHILD)
    up.send("written")
    down.recv(timeout=5, what="the parent's write after the fork")
    return saw_before, page1_zero, shm.peek(addr + AFTER_AT, len(AFTER))


@pytest.mark.parametrize("make", KINDS)
def test_shared_with_forked_child(make, spawn, channel, observe):
    """The mapping starts zeroed; each side sees the other's writes, from before and after the fork."""
    page = shm.page_size()
    up, down = channel(), channel()
    with make(2 * page) as area:
        zeroed = area.read(0, 2 * page) == bytes(2 * page)
        observe("starts zeroed", zeroed)
        assert zeroed, "expected the new shared mapping to read as zeros"
        area.write(0, BEFORE)
        child = spawn(_child_side, area.addr, page, up, down, name="forked child")
        up.recv(timeout=5, what="the child's write")
        from_child = area.read(page, len(FROM_CHILD))
        area.write(AFTER_AT, AFTER)
        down.send("written")
        saw_before, page1_zero, saw_after = child.value(timeout=5)
    seen = {"child saw the pre-fork write": saw_before == BEFORE,
            "child saw zeros in page 1": page1_zero,
            "parent saw the child's write": from_child == FROM_CHILD,
            "child saw the post-fork write": saw_after == AFTER}
    for what, ok in seen.items():
        observe(what, ok)
    assert all(seen.values()), f"expected writes on each side to be seen by the other; {seen}"
