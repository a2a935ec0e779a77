"""fork.inherit: after fork the child has the parent's pipe and FIFO descriptors, message queue
descriptors, open named semaphores and System V attachments, and uses each without opening
anything."""
import pytest

from fork_helpers import KINDS, MESSAGE, ShmAttachment


@pytest.mark.claim("fork.inherit")
@pytest.mark.parametrize("kind", list(KINDS))
def test_child_uses_what_it_inherited(kind, ipc, made, spawn, observe):
    """The child writes, sends, posts or stores through the inherited object; the parent gets it."""
    obj = KINDS[kind]()
    why = obj.make(ipc)
    if why:
        pytest.skip(why)
    made(obj)
    used = spawn.run(obj.use, name=f"child using the inherited {kind}", timeout=5).unwrap()
    got = obj.received(used)
    if isinstance(obj, ShmAttachment):
        observe("shm_nattch in the child", used)
        assert used == 2, f"expected shm_nattch 2 in the child (its inherited attachment and the parent's), got {used}"
    assert got == MESSAGE, (
        f"expected the child's {MESSAGE!r} through the inherited {kind} to reach the parent, it got {got!r}")
