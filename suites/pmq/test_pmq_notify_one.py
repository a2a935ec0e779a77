"""pmq.notify.one: only one process can be registered for notification (EBUSY for a second)."""
import errno

import pytest

from fixtures import libc, mqueue
from fixtures.expect import fails_with, succeeds
from pmq_helpers import Notifiee


@pytest.mark.claim("pmq.notify.one")
def test_second_process_gets_ebusy(mq, spawn, channel, observe):
    """While a child is registered, mq_notify from this process fails with EBUSY; once the child unregisters it succeeds."""
    q = mq.create(1, 16)
    first = Notifiee(spawn, channel, q.name)
    # SIGEV_NONE: were it accepted, nothing would be sent to this process
    err = fails_with(errno.EBUSY, mqueue.mq_notify, q.mqd, mqueue.sigevent_none(),
                     what="mq_notify from a second process while another is registered")
    observe("second process", libc.errno_name(err.errno))
    assert first.unregister() is None, "expected the registered child to remove its registration"
    succeeds(mqueue.mq_notify, q.mqd, mqueue.sigevent_none(),
             what="mq_notify after the first registration was removed")
    mqueue.mq_notify(q.mqd, None)


@pytest.mark.claim("pmq.notify.one")
def test_second_registration_by_the_same_process_is_ebusy(mq, spawn, channel, observe):
    """The registered process itself cannot register a second time either (EBUSY): one registration per queue."""
    q = mq.create(1, 16)
    first = Notifiee(spawn, channel, q.name)
    again = first.register()
    observe("same process again", libc.errno_name(again))
    assert again == errno.EBUSY, (f"expected a second mq_notify by the registered process to fail with "
                                  f"EBUSY, it gave {libc.errno_name(again)}")
