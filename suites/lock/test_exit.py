"""lock.exit: a process's record locks are released when it ends, by exit or by SIGKILL."""
import os
import signal

import pytest

from fixtures.locks import F_UNLCK, F_WRLCK, TYPE_NAMES, getlk, setlk
from lock_helpers import HOLD_BOUND, make_file


def _lock_and_end(path, ready, release, how):
    fd = os.open(path, os.O_RDWR)
    setlk(fd, F_WRLCK, 0, 0)
    ready.send(("locked", os.getpid()))
    release.recv(HOLD_BOUND, what="the order to exit (or the SIGKILL)")
    return "exiting with the lock held"  # the fd is not closed by the program: exit does it


@pytest.mark.claim("lock.exit")
@pytest.mark.parametrize("how", ["exit", "killed"], ids=["exit", "sigkill"])
def test_locks_go_with_the_process(how, ipc, spawn, channel, observe):
    """F_GETLK shows the child's write lock while it lives and no lock once it has been reaped."""
    path = make_file(ipc.path("locked"))
    ready, release = channel(), channel()
    child = spawn(_lock_and_end, path, ready, release, how, name="lock holder")
    _, pid = ready.recv(what="lock holder")
    fd = os.open(path, os.O_RDWR)
    try:
        before = getlk(fd, F_WRLCK).describe()
        if how == "killed":
            child.signal(signal.SIGKILL)
        else:
            release.send("exit")
        ended = child.result(timeout=2)
        after = getlk(fd, F_WRLCK).describe()
    finally:
        os.close(fd)
    observe("holder_ended", str(ended))
    observe("getlk_before", before, run_specific=True)
    observe("getlk_after", after)
    assert before["l_pid"] == pid, f"expected the child's lock to be visible first, F_GETLK gave {before}"
    assert after["l_type"] == TYPE_NAMES[F_UNLCK], (
        f"expected no lock after the holder {ended}, F_GETLK still reports {after}")
