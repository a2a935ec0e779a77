"""pmq.prio_max: priorities must be < MQ_PRIO_MAX (32768 on Linux, POSIX asks at least 32); larger
fails with EINVAL."""
import errno
import os

import pytest

from fixtures import libc, mqueue
from fixtures.expect import fails_with, succeeds


@pytest.mark.claim("pmq.prio_max")
def test_sysconf_reports_32768(observe):
    """sysconf(_SC_MQ_PRIO_MAX) is 32768, the kernel's MQ_PRIO_MAX (and at least POSIX's 32)."""
    value = os.sysconf("SC_MQ_PRIO_MAX")
    observe("_SC_MQ_PRIO_MAX", value)
    assert value == mqueue.MQ_PRIO_MAX, f"expected sysconf(_SC_MQ_PRIO_MAX) = 32768, got {value}"


@pytest.mark.claim("pmq.prio_max")
def test_highest_priority_is_accepted(mq, observe):
    """A message of priority MQ_PRIO_MAX - 1 is queued and received with that priority."""
    q = mq.create(1, 16)
    succeeds(q.send, b"top", mqueue.MQ_PRIO_MAX - 1,
             what=f"mq_send with priority {mqueue.MQ_PRIO_MAX - 1} (MQ_PRIO_MAX - 1)")
    data, prio = q.receive()
    observe("received priority", prio)
    assert (data, prio) == (b"top", mqueue.MQ_PRIO_MAX - 1), (
        f"expected b'top' at priority {mqueue.MQ_PRIO_MAX - 1}, received {data!r} at {prio}")


@pytest.mark.claim("pmq.prio_max")
@pytest.mark.parametrize("prio", [mqueue.MQ_PRIO_MAX, mqueue.MQ_PRIO_MAX + 1, 0xFFFFFFFF],
                         ids=["MQ_PRIO_MAX", "MQ_PRIO_MAX+1", "UINT_MAX"])
def test_priority_at_or_over_max_is_einval(mq, observe, prio):
    """mq_send with a priority >= MQ_PRIO_MAX fails with EINVAL and queues nothing."""
    q = mq.create(1, 16)
    err = fails_with(errno.EINVAL, q.send, b"x", prio, what=f"mq_send with priority {prio}")
    observe("errno", libc.errno_name(err.errno))
    assert q.curmsgs() == 0, f"expected nothing queued by the refused send, mq_curmsgs is {q.curmsgs()}"
