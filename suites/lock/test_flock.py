"""lock.flock: flock() locks belong to the open file description (two open() calls conflict even
in one process; dup() and fork() share the lock), and on Linux they do not interact with fcntl
record locks."""
import errno
import os

import pytest

from fixtures.expect import fails_with, succeeds
from fixtures.libc import errno_name
from fixtures.locks import F_WRLCK, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, flock
from lock_helpers import hold_fcntl_lock, hold_flock, make_file, try_flock, try_setlk

NAMES = {LOCK_SH: "LOCK_SH", LOCK_EX: "LOCK_EX"}


def _filesystem_of(path):
    """The file system type of the mount holding path (flock() is emulated on NFS)."""
    best, fstype = "", "?"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            point = left.split()[4]
            if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
                best, fstype = point, right.split()[0]
    return fstype


@pytest.mark.claim("lock.flock")
@pytest.mark.parametrize("first, second", [(LOCK_EX, LOCK_EX), (LOCK_EX, LOCK_SH), (LOCK_SH, LOCK_EX)],
                         ids=["ex-then-ex", "ex-then-sh", "sh-then-ex"])
def test_two_opens_conflict_in_one_process(first, second, ipc, observe):
    """Two open() calls in one process are two owners: the second conflicting flock() gets EWOULDBLOCK."""
    path = make_file(ipc.path("locked"))
    fd1, fd2 = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    try:
        flock(fd1, first)
        refusal = fails_with(errno.EWOULDBLOCK, flock, fd2, second | LOCK_NB,
                             what=f"flock({NAMES[second]}|LOCK_NB) through a second open() "
                                  f"of a file this process holds {NAMES[first]} on")
    finally:
        os.close(fd1)
        os.close(fd2)
    observe("errno", errno_name(refusal.errno))


def _flock_inherited(fd, path):
    """In a forked child: the inherited description's lock is ours too; a new open() is not."""
    try:
        flock(fd, LOCK_EX | LOCK_NB)
        inherited = "granted"
    except OSError as exc:
        inherited = errno_name(exc.errno)
    return inherited, try_flock(path, LOCK_EX)


@pytest.mark.claim("lock.flock")
@pytest.mark.parametrize("sharer", ["dup", "fork"])
def test_same_description_shares_the_lock(sharer, ipc, spawn, observe):
    """flock(LOCK_EX|LOCK_NB) through a dup or an inherited fd succeeds; a separate open() is refused."""
    path = make_file(ipc.path("locked"))
    fd = os.open(path, os.O_RDWR)
    try:
        flock(fd, LOCK_EX)
        if sharer == "dup":
            copy = os.dup(fd)
            try:
                succeeds(flock, copy, LOCK_EX | LOCK_NB, what="flock(LOCK_EX|LOCK_NB) through a dup")
                shared, separate = "granted", try_flock(path, LOCK_EX)
                flock(copy, LOCK_UN)  # unlocking through the dup unlocks the description
                after_unlock = try_flock(path, LOCK_EX)
            finally:
                os.close(copy)
            observe("separate_open_after_unlock_via_dup", after_unlock)
            assert after_unlock == "granted", f"LOCK_UN via a dup should free the lock, got {after_unlock}"
        else:
            shared, separate = spawn.run(_flock_inherited, fd, path, timeout=2).unwrap()
    finally:
        os.close(fd)
    observe("same_description", shared)
    observe("separate_open", separate)
    assert (shared, separate) == ("granted", errno_name(errno.EWOULDBLOCK)), (
        f"expected the {sharer}'s flock() granted and a separate open() refused EWOULDBLOCK, "
        f"kernel gave {shared} and {separate}")


# File systems whose flock() is emulated with byte-range (fcntl) locks, so the two kinds do
# conflict there by design: NFS since 2.6.12 (nfs(5) "local_lock"), CIFS/SMB, 9p (v9fs's
# flock_dotl), FUSE file systems that pass flock to the server as posix locks.
EMULATED_FLOCK = ("nfs", "nfs4", "cifs", "smb3", "9p")


@pytest.mark.claim("lock.flock")
@pytest.mark.parametrize("held_by", ["flock", "fcntl"])
def test_no_interaction_with_fcntl_locks(held_by, ipc, spawn, channel, observe, verdict_note):
    """While another process holds an exclusive lock of one kind, the other kind is granted (on a
    local file system; where flock() is emulated with fcntl locks, as on NFS, they conflict)."""
    path = make_file(ipc.path("locked"))
    fstype = _filesystem_of(os.path.realpath(path))
    observe("filesystem", fstype)
    emulated = fstype in EMULATED_FLOCK
    ready, release = channel(), channel()
    if held_by == "flock":
        spawn(hold_flock, path, LOCK_EX, ready, release, name="flock holder")
    else:
        spawn(hold_fcntl_lock, path, F_WRLCK, 0, 0, ready, release, name="fcntl holder")
    ready.recv(what=f"{held_by} holder")
    if held_by == "flock":
        what, outcome = "fcntl F_SETLK F_WRLCK", spawn.run(try_setlk, path, F_WRLCK, timeout=2).unwrap()
    else:
        what, outcome = "flock LOCK_EX|LOCK_NB", spawn.run(try_flock, path, LOCK_EX, timeout=2).unwrap()
    observe("other_kind", outcome)
    if emulated:
        assert outcome in ("EAGAIN", "EACCES"), (
            f"on {fstype}, where flock() is emulated with byte-range locks, expected {what} to "
            f"conflict with the exclusive {held_by} lock, kernel gave {outcome}")
        verdict_note(f"the test directory is on {fstype}, where flock() is emulated with fcntl "
                     "locks: the two kinds conflicted there, as documented")
        return
    assert outcome == "granted", (
        f"expected {what} to be granted while another process holds an exclusive {held_by} lock, "
        f"kernel gave {outcome}")
