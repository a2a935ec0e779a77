"""lock.close_any: closing any descriptor of a file releases all of the process's record locks
on it, even when the lock was taken through another descriptor that stays open."""
import os

import pytest

from fixtures.locks import F_WRLCK, getlk, setlk
from lock_helpers import HOLD_BOUND, make_file


def _lock_then_close_other(path, second, ready, orders):
    locked_fd = os.open(path, os.O_RDWR)
    setlk(locked_fd, F_WRLCK, 0, 0)
    other_fd = os.dup(locked_fd) if second == "dup" else os.open(path, os.O_RDONLY)
    ready.send("locked")
    orders.recv(HOLD_BOUND, what="the order to close the other fd")
    os.close(other_fd)
    ready.send("closed the other fd")
    orders.recv(HOLD_BOUND, what="the order to exit")
    os.close(locked_fd)
    return "done"


@pytest.mark.claim("lock.close_any")
@pytest.mark.parametrize("second", ["open", "dup"], ids=["second-open", "dup"])
def test_closing_another_fd_drops_the_lock(second, ipc, spawn, channel, observe):
    """The holder closes a descriptor it never locked through; its lock is gone while it lives."""
    path = make_file(ipc.path("locked"))
    ready, orders = channel(), channel()
    holder = spawn(_lock_then_close_other, path, second, ready, orders, name="lock holder")
    ready.recv(what="lock holder")
    fd = os.open(path, os.O_RDONLY)
    try:
        before = getlk(fd, F_WRLCK).describe()
        orders.send("close it")
        ready.recv(what="lock holder closing its other fd")
        after = getlk(fd, F_WRLCK).describe()
        alive = holder.alive()
        orders.send("exit")
    finally:
        os.close(fd)
    observe("getlk_before", before, run_specific=True)
    observe("getlk_after", after)
    assert before["l_pid"] == holder.pid, f"expected the holder's lock first, F_GETLK gave {before}"
    assert alive and after["l_type"] == "F_UNLCK", (
        f"expected the lock released by closing the {second} fd (holder alive: {alive}), "
        f"F_GETLK reports {after}")
    assert holder.value(timeout=2) == "done"
