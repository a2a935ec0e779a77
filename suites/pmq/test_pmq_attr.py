"""pmq.attr: mq_maxmsg and mq_msgsize are fixed at creation, mq_curmsgs counts messages, mq_setattr
changes only O_NONBLOCK; the defaults come from /proc/sys/fs/mqueue/msg_default and msgsize_default."""
import errno
import os
import resource

import pytest

from fixtures import libc, mqueue
from fixtures.expect import fails_with
from pmq_helpers import limit, small


def _sizes(a):
    return a.mq_maxmsg, a.mq_msgsize


@pytest.mark.claim("pmq.attr")
def test_attr_given_at_creation(mq, observe):
    """A queue made with {mq_maxmsg, mq_msgsize} reports exactly those, mq_flags 0 and mq_curmsgs 0."""
    maxmsg, msgsize = small(3, 100)
    a = mq.create(maxmsg, msgsize).attr()
    observe("mq_getattr", mqueue.describe_attr(a))
    assert (a.mq_flags, a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs) == (0, maxmsg, msgsize, 0), (
        f"expected {{mq_flags=0, mq_maxmsg={maxmsg}, mq_msgsize={msgsize}, mq_curmsgs=0}}, "
        f"mq_getattr gave {mqueue.describe_attr(a)}")


@pytest.mark.claim("pmq.attr")
def test_defaults_come_from_sysctls(mq, observe):
    """A queue made with attr NULL has mq_maxmsg = min(msg_default, msg_max) and mq_msgsize = min(msgsize_default, msgsize_max)."""
    # before 3.5 there are no *_default files: limit() gives the documented 10 and 8192 and says so
    default_msg, default_size = limit("msg_default"), limit("msgsize_default")
    want = (min(default_msg, limit("msg_max")), min(default_size, limit("msgsize_max")))
    try:
        q = mq.create()
    except OSError as exc:
        if exc.errno != errno.EMFILE:
            raise
        soft = resource.getrlimit(resource.RLIMIT_MSGQUEUE)[0]
        pytest.skip(f"RLIMIT_MSGQUEUE ({soft} bytes, with this user's other queues) leaves no room "
                    f"for a default queue of {want[0]} x {want[1]} bytes; raising it needs "
                    "CAP_SYS_RESOURCE or a larger hard limit")
    got = _sizes(q.attr())
    observe("msg_default", default_msg)
    observe("msgsize_default", default_size)
    observe("default attr", list(got))
    assert got == want, (f"expected a queue made with attr NULL to get (mq_maxmsg, mq_msgsize) = {want} "
                         f"from fs.mqueue, mq_getattr gave {got}")


@pytest.mark.claim("pmq.attr")
def test_reopen_with_other_attr_keeps_sizes(mq, observe):
    """mq_open(O_CREAT) of an existing queue with another attr opens it unchanged."""
    maxmsg, msgsize = small(3, 100)
    q = mq.create(maxmsg, msgsize)
    again = mqueue.mq_open(q.name, os.O_CREAT | os.O_RDWR, 0o600, 1, 8)
    try:
        got = _sizes(mqueue.mq_getattr(again))
    finally:
        mqueue.mq_close(again)
    assert got == (maxmsg, msgsize), (
        f"expected the existing queue to keep ({maxmsg}, {msgsize}) when reopened with attr (1, 8), "
        f"mq_getattr gave {got}")


@pytest.mark.claim("pmq.attr")
def test_curmsgs_counts(mq, observe):
    """mq_curmsgs goes 0, 1, 2, 3 as messages are sent and back down to 0 as they are received."""
    q = mq.create(3, 16)
    n = q.attr().mq_maxmsg  # 3 unless msg_max is smaller
    seen = [q.curmsgs()]
    for i in range(n):
        q.send(b"m", i)
        seen.append(q.curmsgs())
    for _ in range(n):
        q.receive()
        seen.append(q.curmsgs())
    observe("mq_curmsgs", seen)
    want = list(range(n + 1)) + list(range(n - 1, -1, -1))
    assert seen == want, f"expected mq_curmsgs {want}, mq_getattr gave {seen}"


@pytest.mark.claim("pmq.attr")
def test_setattr_changes_only_nonblock(mq, observe):
    """mq_setattr with O_NONBLOCK and other sizes sets O_NONBLOCK alone (receive then gives EAGAIN); clearing it works too."""
    maxmsg, msgsize = small(3, 100)
    q = mq.create(maxmsg, msgsize)
    old = mqueue.mq_setattr(q.mqd, mqueue.attr(maxmsg + 5, msgsize + 5, os.O_NONBLOCK, 9))
    now = q.attr()
    observe("after mq_setattr", mqueue.describe_attr(now))
    assert (old.mq_flags, _sizes(old)) == (0, (maxmsg, msgsize)), (
        f"expected mq_setattr to report the old {{mq_flags=0, {maxmsg}, {msgsize}}}, it gave "
        f"{mqueue.describe_attr(old)}")
    assert (now.mq_flags, _sizes(now), now.mq_curmsgs) == (os.O_NONBLOCK, (maxmsg, msgsize), 0), (
        f"expected only O_NONBLOCK to change ({{mq_flags=O_NONBLOCK, {maxmsg}, {msgsize}, 0}}), "
        f"mq_getattr gave {mqueue.describe_attr(now)}")
    fails_with(errno.EAGAIN, mqueue.mq_receive, q.mqd, msgsize,
               what="mq_receive on an empty queue after mq_setattr(O_NONBLOCK)")
    mqueue.mq_setattr(q.mqd, mqueue.attr(flags=0))
    assert q.attr().mq_flags == 0, f"expected mq_setattr(0) to clear O_NONBLOCK, mq_flags is {q.attr().mq_flags:#o}"


@pytest.mark.claim("pmq.attr")
def test_setattr_other_flag_bits_einval(mq, observe):
    """mq_setattr with a flag bit other than O_NONBLOCK fails with EINVAL and changes nothing (mq_setattr(3))."""
    q = mq.create(1, 16)
    err = fails_with(errno.EINVAL, mqueue.mq_setattr, q.mqd, mqueue.attr(flags=os.O_NONBLOCK | os.O_APPEND),
                     what="mq_setattr with mq_flags O_NONBLOCK|O_APPEND")
    observe("mq_setattr other flag bits", libc.errno_name(err.errno))
    assert q.attr().mq_flags == 0, f"expected mq_flags to stay 0, it is {q.attr().mq_flags:#o}"
