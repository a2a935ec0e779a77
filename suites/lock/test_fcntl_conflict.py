"""lock.fcntl.conflict: F_SETLK on a region another process holds incompatibly fails at once
(POSIX allows EACCES or EAGAIN; Linux gives EAGAIN); F_SETLKW sleeps until the holder lets go,
then gets the lock."""
import errno
import os

import pytest

from fixtures.expect import fails_with
from fixtures.libc import errno_name
from fixtures.locks import F_RDLCK, F_WRLCK, TYPE_NAMES, setlk
from lock_helpers import hold_fcntl_lock, make_file, wait_setlkw

# The holder locks bytes [8, 24); the request covers [16, 32): overlapping, not identical.
HELD_START, HELD_LEN, WANT_START, WANT_LEN = 8, 16, 16, 16
CONFLICTS = [(F_WRLCK, F_WRLCK), (F_WRLCK, F_RDLCK), (F_RDLCK, F_WRLCK)]
IDS = ["write-held-write-wanted", "write-held-read-wanted", "read-held-write-wanted"]


def _held_by_child(ipc, spawn, channel, held):
    path = make_file(ipc.path("locked"))
    ready, release = channel(), channel()
    holder = spawn(hold_fcntl_lock, path, held, HELD_START, HELD_LEN, ready, release,
                   name="lock holder")
    ready.recv(what="lock holder")
    return path, holder, release


def _try_setlk(path, held, wanted):
    fd = os.open(path, os.O_RDWR)
    refusal = fails_with(errno.EAGAIN, setlk, fd, wanted, WANT_START, WANT_LEN,
                         what=f"F_SETLK {TYPE_NAMES[wanted]} on [16, 32) while another "
                              f"process holds {TYPE_NAMES[held]} on [8, 24)")
    return errno_name(refusal.errno)


@pytest.mark.claim("lock.fcntl.conflict")
@pytest.mark.parametrize("held, wanted", CONFLICTS, ids=IDS)
def test_setlk_is_refused_at_once(held, wanted, ipc, spawn, channel, observe):
    """F_SETLK on an incompatibly locked region returns EAGAIN (Linux's choice of POSIX's two) without sleeping."""
    path, _, _ = _held_by_child(ipc, spawn, channel, held)
    # In a child, bounded: a kernel that sleeps in F_SETLK leaves it asleep (ChildTimeout, violated)
    # instead of holding the whole test until pytest's timeout.
    observe("errno", spawn(_try_setlk, path, held, wanted, name="F_SETLK requester").value(timeout=2))


@pytest.mark.claim("lock.fcntl.conflict")
@pytest.mark.parametrize("held, wanted", CONFLICTS, ids=IDS)
def test_setlkw_waits_for_release(held, wanted, ipc, spawn, channel, observe):
    """F_SETLKW sleeps in fcntl() while the conflicting lock is held and is granted once it goes."""
    path, holder, release = _held_by_child(ipc, spawn, channel, held)
    waiter = spawn(wait_setlkw, path, wanted, WANT_START, WANT_LEN, name="F_SETLKW waiter")
    waiter.wait_blocked("fcntl", what=f"F_SETLKW {TYPE_NAMES[wanted]} waiter")
    release.send("let go")
    assert holder.value(timeout=2) == "released"
    outcome = waiter.value(timeout=2)
    observe("waiter", outcome)
    assert outcome == "granted", f"expected F_SETLKW to be granted after the release, got {outcome}"
