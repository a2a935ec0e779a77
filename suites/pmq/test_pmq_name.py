"""pmq.name: names have the form /name; O_CREAT|O_EXCL on an existing queue gives EEXIST, opening a
missing queue ENOENT, and a name without the leading slash EINVAL (glibc's refusal on Linux)."""
import errno
import os

import pytest

from fixtures import libc, mqueue
from fixtures.expect import fails_with, succeeds
from pmq_helpers import CREATE, libc_name


@pytest.mark.claim("pmq.name")
def test_slash_name_is_created_and_reopened(mq, observe):
    """mq_open("/name", O_CREAT|O_EXCL) makes the queue and mq_open("/name") without O_CREAT opens it."""
    q = mq.create(1, 16)
    again = succeeds(mq.open, q.name, what=f"mq_open({q.name!r}, O_RDWR) of the queue just made")
    q.send(b"x")
    seen = again.curmsgs()
    observe("message seen through the second descriptor", seen == 1)
    assert seen == 1, f"expected both descriptors to be the same queue, the second sees {seen} messages"


@pytest.mark.claim("pmq.name")
def test_exclusive_create_of_existing_is_eexist(mq, observe):
    """O_CREAT|O_EXCL on a name that exists fails with EEXIST."""
    q = mq.create(1, 16)
    err = fails_with(errno.EEXIST, mqueue.mq_open, q.name, CREATE, 0o600, 1, 16,
                     what=f"mq_open({q.name!r}, O_CREAT|O_EXCL) of an existing queue")
    observe("O_CREAT|O_EXCL of existing", libc.errno_name(err.errno))


@pytest.mark.claim("pmq.name")
def test_open_missing_is_enoent(ipc, observe):
    """mq_open of a name nobody made, without O_CREAT, fails with ENOENT (and mq_unlink of it too)."""
    name = ipc.name()
    err = fails_with(errno.ENOENT, mqueue.mq_open, name, os.O_RDWR,
                     what=f"mq_open({name!r}, O_RDWR) of a missing queue")
    observe("open missing", libc.errno_name(err.errno))
    fails_with(errno.ENOENT, mqueue.mq_unlink, name, what=f"mq_unlink({name!r}) of a missing queue")


def _who_refused(ipc, bare):
    """Does the kernel itself take the name libc refused? (It names its queues without the slash.)"""
    try:
        mqd = mqueue.kernel_mq_open(bare, CREATE, 0o600, 1, 16)
    except RuntimeError:  # no syscall number tabled for this ABI
        return "libc or kernel"
    except OSError as exc:
        return f"kernel ({libc.errno_name(exc.errno)})"
    ipc.adopt_posix("mq", "/" + bare)
    mqueue.mq_close(mqd)
    return "libc"  # the kernel took it, as the queue /<bare>


@pytest.mark.claim("pmq.name")
def test_name_without_slash_is_einval(ipc, observe, partial):
    """mq_open of a name without the leading slash fails with EINVAL; which layer refused it is recorded."""
    bare = ipc.name().lstrip("/")
    try:
        mqd = mqueue.mq_open(bare, CREATE, 0o600, 1, 16)
    except OSError as exc:
        observe("name without slash", libc.errno_name(exc.errno))
        assert exc.errno == errno.EINVAL, (
            f"expected mq_open({bare!r}) without the leading slash to fail with EINVAL, "
            f"{exc.call}: got {libc.errno_name(exc.errno)}")
        observe("refused by", _who_refused(ipc, bare))
        return
    ipc.adopt_posix("mq", "/" + bare)  # the kernel names it without the slash: it is /<bare>
    mqueue.mq_close(mqd)
    assert not libc_name().startswith("glibc"), (
        f"expected glibc's mq_open({bare!r}) to fail with EINVAL, it made a queue (descriptor {mqd})")
    observe("refused by", "nobody")
    partial("name without slash", f"{libc_name() or 'this libc'} accepts a name without the leading "
            "slash (musl strips the slash; the kernel sees names without it either way)")
