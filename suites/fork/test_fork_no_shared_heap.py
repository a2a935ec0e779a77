"""fork.no_shared_heap: after fork an ordinary private page is not shared: the child's write is not
seen by the parent, nor the parent's later write by the child. MAP_SHARED memory, the control, is."""
import mmap

import pytest

SIZE = 4096


def _memory(kind):
    if kind == "heap":
        return bytearray(SIZE)
    flags = mmap.MAP_PRIVATE if kind == "MAP_PRIVATE anonymous" else mmap.MAP_SHARED
    return mmap.mmap(-1, SIZE, flags=flags)


def _child_writes(memory, wrote, go):
    """Read what the parent left, write our own, let the parent look and write, read again."""
    inherited = bytes(memory[:6])
    memory[:6] = b"child!"
    wrote.send(inherited)
    go.recv(timeout=5, what="the parent")
    return bytes(memory[:6])


CASES = [("heap", False), ("MAP_PRIVATE anonymous", False), ("MAP_SHARED anonymous", True)]


@pytest.mark.claim("fork.no_shared_heap")
@pytest.mark.parametrize("kind, shared", CASES, ids=[c[0] for c in CASES])
def test_private_page_not_shared(kind, shared, spawn, channel, observe):
    """The child starts with the parent's bytes; then each side sees only its own writes (private
    memory) or each other's (MAP_SHARED)."""
    memory = _memory(kind)
    try:
        memory[:6] = b"parent"
        wrote, go = channel(), channel()
        child = spawn(_child_writes, memory, wrote, go, name="writing child")
        inherited = wrote.recv(timeout=5, what="writing child")
        parent_sees = bytes(memory[:6])
        memory[:6] = b"after!"
        go.send("look")
        child_sees = child.value(timeout=5)
    finally:
        if isinstance(memory, mmap.mmap):
            memory.close()
    seen = {"child read first": inherited, "parent after the child wrote": parent_sees,
            "child after the parent wrote": child_sees}
    observe("seen", {k: v.decode() for k, v in seen.items()})
    expected = {"child read first": b"parent",
                "parent after the child wrote": b"child!" if shared else b"parent",
                "child after the parent wrote": b"after!" if shared else b"child!"}
    assert seen == expected, f"expected {kind} memory to read {expected} after fork, it read {seen}"
