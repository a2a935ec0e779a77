"""lock.ofd: open file description locks (F_OFD_SETLK, since 3.15) are owned by the open file
description: two open() calls in one process conflict, a dup() shares the lock, and closing
another descriptor of the file does not release it. Before 3.15 the command is EINVAL."""
import errno
import os

import pytest

from fixtures import libc
from fixtures.expect import fails_with, succeeds
from fixtures.facility import present_since
from fixtures.libc import errno_name
from fixtures.locks import F_UNLCK, F_WRLCK, fcntl_lock
from lock_helpers import make_file


def ofd_setlk(fd, ltype=F_WRLCK):
    return fcntl_lock(fd, libc.F_OFD_SETLK, ltype, 0, 0)


def ofd_available(kernel, fd, observe, note=None) -> bool:
    """True where the kernel has OFD locks (3.15+, or a backport); on an older kernel without
    them the documented behaviour is checked: EINVAL for the unknown command."""
    if present_since(kernel, (3, 15), "F_OFD_SETLK", lambda: ofd_setlk(fd, F_UNLCK), note=note):
        return True
    observe("errno", "EINVAL")
    return False


@pytest.mark.claim("lock.ofd")
def test_two_opens_conflict_in_one_process(ipc, kernel, observe, verdict_note):
    """F_OFD_SETLK through a second open() of a file this process OFD-locked fails with EAGAIN."""
    path = make_file(ipc.path("locked"))
    fd1, fd2 = os.open(path, os.O_RDWR), os.open(path, os.O_RDWR)
    try:
        if not ofd_available(kernel, fd1, observe, verdict_note):
            return
        ofd_setlk(fd1)
        refusal = fails_with((errno.EAGAIN, errno.EACCES), ofd_setlk, fd2,
                             what="F_OFD_SETLK F_WRLCK through a second open() in the same process")
        holder = fcntl_lock(fd2, libc.F_OFD_GETLK, F_WRLCK, 0, 0).describe()
    finally:
        os.close(fd1)
        os.close(fd2)
    observe("errno", errno_name(refusal.errno))
    observe("ofd_getlk", holder)
    assert holder["l_type"] == "F_WRLCK" and holder["l_pid"] == -1, (
        f"expected F_OFD_GETLK to report the OFD write lock with l_pid -1, kernel gave {holder}")


@pytest.mark.claim("lock.ofd")
def test_dup_shares_and_close_of_other_fd_keeps(ipc, kernel, observe, verdict_note):
    """A dup takes the same OFD lock again; closing an unrelated fd of the file leaves it held."""
    path = make_file(ipc.path("locked"))
    fd = os.open(path, os.O_RDWR)
    copy = os.dup(fd)
    probe = os.open(path, os.O_RDWR)
    try:
        if not ofd_available(kernel, fd, observe, verdict_note):
            return
        ofd_setlk(fd)
        succeeds(ofd_setlk, copy, what="F_OFD_SETLK through a dup of the locking fd")
        os.close(os.open(path, os.O_RDONLY))  # a process-owned (F_SETLK) lock would go with this close
        still = fails_with((errno.EAGAIN, errno.EACCES), ofd_setlk, probe,
                           what="F_OFD_SETLK through another open() after closing a third fd")
    finally:
        for d in (fd, copy, probe):
            os.close(d)
    observe("after_other_close", errno_name(still.errno))
