"""lock.fork: record locks are not inherited by a forked child: the child shares the open file
but not the lock, and the parent's lock conflicts with the child's own requests."""
import os

import pytest

from fixtures.libc import errno_name
from fixtures.locks import F_WRLCK, getlk, setlk
from lock_helpers import is_refusal, make_file


def _inherited_fd_view(fd):
    """In the child: who F_GETLK says holds the file, and what F_SETLK on the inherited fd gets."""
    holder = getlk(fd, F_WRLCK, 0, 0).describe()
    try:
        setlk(fd, F_WRLCK, 0, 0)
        outcome = "granted"
    except OSError as exc:
        outcome = errno_name(exc.errno)
    return holder, outcome


@pytest.mark.claim("lock.fork")
def test_child_does_not_inherit_lock(ipc, spawn, observe):
    """After fork the parent's write lock belongs to the parent alone and refuses the child."""
    path = make_file(ipc.path("locked"))
    fd = os.open(path, os.O_RDWR)
    try:
        setlk(fd, F_WRLCK, 0, 0)
        holder, outcome = spawn.run(_inherited_fd_view, fd, timeout=2).unwrap()
    finally:
        os.close(fd)
    observe("getlk_in_child", holder, run_specific=True)
    observe("setlk_in_child", outcome)
    assert holder["l_pid"] == os.getpid() and is_refusal(outcome), (
        f"expected the child to see the parent (pid {os.getpid()}) as holder and be refused "
        f"EACCES/EAGAIN, kernel showed {holder} and gave {outcome}")
