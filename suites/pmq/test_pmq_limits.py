"""pmq.limits: queues_max, msg_max, msgsize_max and RLIMIT_MSGQUEUE bound usage; exceeding them gives
ENOSPC, EINVAL and EMFILE as documented (and RLIMIT_NOFILE EMFILE); CAP_SYS_RESOURCE lifts the
sysctl limits. Every limit is read from the kernel; queues_max is filled only in a private IPC
namespace."""
import errno
import os
import resource

import pytest

from fixtures import libc, mqueue
from fixtures.kernel import KERNEL, has_capability
from pmq_helpers import CREATE, fill_queues, in_private_ipc, limit, set_rlimit

EXEMPT = "CAP_SYS_RESOURCE"


SYSCTL_LIMITS = ["msg_max", "msgsize_max"]


def _open_at(ipc, which, value):
    """mq_open of a new queue with mq_maxmsg (msg_max) or mq_msgsize (msgsize_max) = value, the
    other 1; (what was asked, the OSError or None). A queue made is adopted and closed."""
    name = ipc.name()
    maxmsg, msgsize = (value, 1) if which == "msg_max" else (1, value)
    what = f"mq_open with mq_maxmsg={maxmsg}, mq_msgsize={msgsize} ({which} {limit(which)})"
    try:
        mqd = mqueue.mq_open(name, CREATE, 0o600, maxmsg, msgsize)
    except OSError as exc:
        return what, exc
    ipc.adopt_posix("mq", name)
    mqueue.mq_close(mqd)
    return what, None


@pytest.mark.claim("pmq.limits")
@pytest.mark.parametrize("which", SYSCTL_LIMITS)
def test_sysctl_limit_itself_is_accepted(ipc, observe, which):
    """A queue with mq_maxmsg = msg_max (mq_msgsize = msgsize_max) is made."""
    observe("limit", limit(which))
    what, err = _open_at(ipc, which, limit(which))
    if err is not None and err.errno == errno.EMFILE:
        pytest.skip(f"{what}: EMFILE, the queue is larger than RLIMIT_MSGQUEUE leaves room for "
                    "(raising it needs CAP_SYS_RESOURCE or a larger hard limit)")
    assert err is None, f"expected {what} to be accepted, {err.call}: kernel gave {libc.errno_name(err.errno)}"


@pytest.mark.claim("pmq.limits")
@pytest.mark.parametrize("which", SYSCTL_LIMITS)
def test_one_over_sysctl_limit(ipc, observe, partial, which):
    """One over msg_max (msgsize_max) fails with EINVAL without CAP_SYS_RESOURCE, and is made with it."""
    what, err = _open_at(ipc, which, limit(which) + 1)
    got = "accepted" if err is None else libc.errno_name(err.errno)
    observe("one over the limit", got)
    if has_capability(EXEMPT):
        assert err is None or err.errno == errno.EMFILE, (
            f"expected {EXEMPT} to lift {which}: {what} made, {err.call}: kernel gave {got}")
        if err is not None:
            pytest.skip(f"{what}: EMFILE, the queue is larger than RLIMIT_MSGQUEUE leaves room for")
        return
    partial(f"{which} exemption", f"this process lacks {EXEMPT}: the exemption is not checked")
    assert got == "EINVAL", f"expected {what} to fail with EINVAL (no {EXEMPT}), got {got}"


def _fill_to_queues_max(prefix):
    most = limit("queues_max")
    if most > 4096:
        return most, None
    fill_queues(prefix, most)
    try:
        mqueue.mq_close(mqueue.mq_open(f"{prefix}-over", CREATE, 0o600, 1, 1))
        return most, "created"
    except OSError as exc:
        return most, libc.errno_name(exc.errno)


@pytest.mark.claim("pmq.limits")
def test_queues_max_is_enospc(ipc, spawn, observe):
    """In a private IPC namespace (a user namespace's: no CAP_SYS_RESOURCE there), queues_max queues are made and one more fails with ENOSPC."""
    most, over = in_private_ipc(spawn, _fill_to_queues_max, ipc.name())
    observe("queues_max (private namespace)", most)
    if over is None:
        pytest.skip(f"queues_max of a new IPC namespace is {most}: too many queues to fill here")
    observe("queue over queues_max", over)
    assert over == "ENOSPC", f"expected mq_open of queue {most + 1} (queues_max {most}) to fail with ENOSPC, got {over}"


@pytest.mark.claim("pmq.limits")
def test_queues_max_exemption(ipc, spawn, observe):
    """With CAP_SYS_RESOURCE (in a private IPC namespace of this user namespace), a queue beyond queues_max is made."""
    if not (has_capability(EXEMPT) and has_capability("CAP_SYS_ADMIN")):
        pytest.skip(f"needs {EXEMPT} and CAP_SYS_ADMIN (for a private IPC namespace that keeps them); "
                    "this process lacks " + " and ".join(
                        c for c in (EXEMPT, "CAP_SYS_ADMIN") if not has_capability(c)))
    most, over = in_private_ipc(spawn, _fill_to_queues_max, ipc.name(), keep_caps=True)
    if over is None:
        pytest.skip(f"queues_max of a new IPC namespace is {most}: too many queues to fill here")
    observe("queue over queues_max with CAP_SYS_RESOURCE", over)
    assert over == "created", f"expected {EXEMPT} to lift queues_max {most}, mq_open gave {over}"


def _rlimit_msgqueue(names, msgsize, room):
    """With RLIMIT_MSGQUEUE lowered to `room` bytes: mq_open of 1 x msgsize-byte queues under
    `names` until one fails; the outcomes."""
    set_rlimit(resource.RLIMIT_MSGQUEUE, room)
    outcomes = []
    for name in names:
        try:
            mqueue.mq_open(name, CREATE, 0o600, 1, msgsize)
            outcomes.append("created")
        except OSError as exc:
            outcomes.append(libc.errno_name(exc.errno))
            break
    return outcomes


@pytest.mark.claim("pmq.limits")
def test_rlimit_msgqueue_is_emfile(ipc, spawn, observe):
    """A queue whose bytes exceed RLIMIT_MSGQUEUE fails with EMFILE, whatever the capabilities."""
    msgsize = min(4096, limit("msgsize_max"))
    names = [ipc.adopt_posix("mq", ipc.name())]
    got = spawn.run(_rlimit_msgqueue, names, msgsize, msgsize - 1, timeout=10).unwrap()
    observe("queue larger than RLIMIT_MSGQUEUE", got[0])
    assert got == ["EMFILE"], (f"expected mq_open of a {msgsize}-byte queue with RLIMIT_MSGQUEUE "
                               f"{msgsize - 1} to fail with EMFILE, got {got[0]}")


@pytest.mark.claim("pmq.limits")
def test_rlimit_msgqueue_counts_the_users_queues(ipc, spawn, observe, partial):
    """In a user namespace of its own, RLIMIT_MSGQUEUE of 1.5 queues admits one queue and refuses the second with EMFILE."""
    if not KERNEL.at_least(5, 14):
        pytest.skip("RLIMIT_MSGQUEUE is counted per user namespace only since 5.14: before, the "
                    "user's other queues on the host (other tests) would count too")
    msgsize = min(4096, limit("msgsize_max"))
    names = [ipc.name() for _ in range(3)]  # in the private namespace: they die with it
    got = in_private_ipc(spawn, _rlimit_msgqueue, names, msgsize, msgsize + msgsize // 2)
    observe("queues under RLIMIT_MSGQUEUE of 1.5 queues", got)
    assert got == ["created", "EMFILE"], (
        f"expected one {msgsize}-byte queue within RLIMIT_MSGQUEUE {msgsize + msgsize // 2} and "
        f"EMFILE for the second, got {got}")


def _open_with_no_free_descriptor(name):
    spare = os.dup(0)
    os.close(spare)
    set_rlimit(resource.RLIMIT_NOFILE, spare)  # the lowest free descriptor is now out of range
    try:
        mqueue.mq_open(name, CREATE, 0o600, 1, 1)
        return "created"
    except OSError as exc:
        return libc.errno_name(exc.errno)


@pytest.mark.claim("pmq.limits")
def test_rlimit_nofile_is_emfile(ipc, spawn, observe):
    """With no descriptor left under RLIMIT_NOFILE, mq_open fails with EMFILE (MQ_OPEN_MAX has no fixed value on Linux)."""
    observe("_SC_MQ_OPEN_MAX", os.sysconf("SC_MQ_OPEN_MAX"))
    name = ipc.adopt_posix("mq", ipc.name())
    got = spawn.run(_open_with_no_free_descriptor, name, timeout=10).unwrap()
    observe("mq_open past RLIMIT_NOFILE", got)
    assert got == "EMFILE", f"expected mq_open with no free descriptor to fail with EMFILE, got {got}"
