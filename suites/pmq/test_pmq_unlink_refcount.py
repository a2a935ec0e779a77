"""pmq.unlink_refcount: mq_unlink removes the name at once; the queue is destroyed when the last
descriptor closes."""
import errno
import os

import pytest

from fixtures import mqueue
from fixtures.expect import fails_with, succeeds
from pmq_helpers import CREATE, fill_queues, in_private_ipc, limit


@pytest.mark.claim("pmq.unlink_refcount")
def test_name_goes_at_once_queue_keeps_working(ipc, mq, observe):
    """After mq_unlink the name opens with ENOENT and can make a new, empty queue, while both open descriptors still use the old one."""
    q = mq.create(2, 16)
    other = mq.open(q.name)
    q.send(b"before", 1)
    mqueue.mq_unlink(q.name)
    fails_with(errno.ENOENT, mqueue.mq_open, q.name, os.O_RDWR, what=f"mq_open({q.name!r}) after mq_unlink")
    fails_with(errno.ENOENT, mqueue.mq_unlink, q.name, what=f"a second mq_unlink({q.name!r})")
    fresh = succeeds(mqueue.mq_open, q.name, CREATE, 0o600, 1, 16,
                     what=f"mq_open({q.name!r}, O_CREAT|O_EXCL) of the unlinked name")
    try:
        fresh_count = mqueue.mq_getattr(fresh).mq_curmsgs
    finally:
        mqueue.mq_close(fresh)
    q.send(b"after", 2)
    got = [other.receive(16), other.receive(16)]
    observe("new queue under the old name: mq_curmsgs", fresh_count)
    observe("old queue after unlink delivered", [d.decode() for d, _ in got])
    assert fresh_count == 0, f"expected the reused name to be a new empty queue, it holds {fresh_count}"
    assert got == [(b"after", 2), (b"before", 1)], (
        f"expected the unlinked queue to keep working through both descriptors, got {got}")


def _unlinked_open_queue_holds_its_place(prefix):
    """In a private IPC namespace filled to queues_max, one queue unlinked but open: can another be
    made before and after its last close?"""
    most = limit("queues_max")
    if most > 4096:
        return {"queues_max": most}
    fds = fill_queues(prefix, most - 1)
    last = mqueue.mq_open(f"{prefix}-last", CREATE, 0o600, 1, 1)
    mqueue.mq_unlink(f"{prefix}-last")
    outcome = {"queues_max": most}
    for moment in ("unlinked, still open", "after its last close"):
        if moment == "after its last close":
            mqueue.mq_close(last)
        try:
            fds.append(mqueue.mq_open(f"{prefix}-{moment[0]}", CREATE, 0o600, 1, 1))
            outcome[moment] = "created"
        except OSError as exc:
            outcome[moment] = mqueue.lc.errno_name(exc.errno)
    return outcome


@pytest.mark.claim("pmq.unlink_refcount")
def test_destroyed_at_last_close(ipc, spawn, observe):
    """In a private IPC namespace at queues_max, an unlinked queue still open keeps its place (ENOSPC for a new one) until its last close frees it."""
    got = in_private_ipc(spawn, _unlinked_open_queue_holds_its_place, ipc.name())
    observe("queues_max (private namespace)", got["queues_max"])
    if "after its last close" not in got:
        pytest.skip(f"queues_max of a new IPC namespace is {got['queues_max']}: too many to fill here")
    observe("new queue while the unlinked one is open", got["unlinked, still open"])
    observe("new queue after its last close", got["after its last close"])
    assert (got["unlinked, still open"], got["after its last close"]) == ("ENOSPC", "created"), (
        f"expected the unlinked queue to count against queues_max until its last close (a new queue: "
        f"ENOSPC, then created); got {got['unlinked, still open']}, then {got['after its last close']}")
