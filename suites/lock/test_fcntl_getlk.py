"""lock.fcntl.getlk: F_GETLK describes a conflicting lock of another process (type, region,
l_pid of the holder), and reports l_type = F_UNLCK when nothing would conflict."""
import os

import pytest

from fixtures.locks import F_RDLCK, F_WRLCK, TYPE_NAMES, getlk, setlk
from lock_helpers import hold_fcntl_lock, make_file

# (lock another process holds on [10, 20) or None, type asked about, whether it conflicts)
CASES = [
    (F_WRLCK, F_RDLCK, True),
    (F_WRLCK, F_WRLCK, True),
    (F_RDLCK, F_WRLCK, True),
    (F_RDLCK, F_RDLCK, False),
    (None, F_WRLCK, False),
]
IDS = ["write-held-read-asked", "write-held-write-asked", "read-held-write-asked",
       "read-held-read-asked", "no-lock"]


@pytest.mark.claim("lock.fcntl.getlk")
@pytest.mark.parametrize("held, asked, conflicts", CASES, ids=IDS)
def test_getlk_reports_the_blocking_lock(held, asked, conflicts, ipc, spawn, channel, observe):
    """F_GETLK over the whole file returns the holder's lock, or F_UNLCK when it would not block."""
    path = make_file(ipc.path("locked"))
    holder_pid = None
    if held is not None:
        ready, release = channel(), channel()
        spawn(hold_fcntl_lock, path, held, 10, 10, ready, release, name="lock holder")
        _, holder_pid = ready.recv(what="lock holder")
    fd = os.open(path, os.O_RDONLY)
    try:
        found = getlk(fd, asked, 0, 0).describe()
    finally:
        os.close(fd)
    observe("flock", found, run_specific=True)
    if conflicts:
        expected = {"l_type": TYPE_NAMES[held], "l_start": 10, "l_len": 10, "l_pid": holder_pid}
    else:
        expected = {"l_type": "F_UNLCK"}
    got = {k: found[k] for k in expected}
    assert got == expected, f"F_GETLK {TYPE_NAMES[asked]}: expected {expected}, kernel gave {found}"


def _lock_then_ask(path):
    fd = os.open(path, os.O_RDWR)
    setlk(fd, F_WRLCK, 0, 0)
    return getlk(fd, F_WRLCK, 0, 0).describe()


@pytest.mark.claim("lock.fcntl.getlk")
def test_own_lock_does_not_conflict(ipc, spawn, observe):
    """F_GETLK by the process holding the only lock reports F_UNLCK: its own locks never block it."""
    path = make_file(ipc.path("locked"))
    found = spawn.run(_lock_then_ask, path, timeout=2).unwrap()
    observe("own_lock", found)
    assert found["l_type"] == "F_UNLCK", f"expected F_UNLCK for the caller's own lock, kernel gave {found}"
