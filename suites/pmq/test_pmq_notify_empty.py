"""pmq.notify.empty: the notification fires when a message arrives on an empty queue, is one-shot,
and is not sent while another process is blocked in mq_receive."""
import os

import pytest

from fixtures import mqueue
from pmq_helpers import Notifiee, drain

DUE = 2.0  # the bound for a notification that is due (the kernel sends it inside mq_send)


@pytest.mark.claim("pmq.notify.empty")
def test_fires_on_arrival_at_empty_queue(mq, spawn, channel, observe):
    """A message sent to the empty queue notifies the registered process once."""
    q = mq.create(2, 16)
    notifiee = Notifiee(spawn, channel, q.name)
    q.send(b"first")
    got = notifiee.notifications(wait=DUE)
    observe("notifications", len(got))
    assert len(got) == 1, f"expected one notification for a message on an empty queue, got {len(got)}"


@pytest.mark.claim("pmq.notify.empty")
def test_one_shot(mq, spawn, channel, observe):
    """After one notification the registration is gone: the queue emptied and refilled notifies no more, and mq_notify works again."""
    q = mq.create(2, 16)
    notifiee = Notifiee(spawn, channel, q.name)
    q.send(b"first")
    q.receive()
    q.send(b"second")
    got = notifiee.notifications(wait=DUE)
    observe("notifications for two arrivals", len(got))
    assert len(got) == 1, (f"expected one notification (one-shot) for two arrivals on an empty queue, "
                           f"got {len(got)}")
    again = notifiee.register()
    assert again is None, f"expected mq_notify to work again after the one-shot fired, it gave errno {again}"


@pytest.mark.claim("pmq.notify.empty")
def test_not_when_queue_holds_messages(mq, spawn, channel, observe):
    """A message added to a non-empty queue does not notify; the registration stays and fires once the queue is empty again."""
    q = mq.create(3, 16)
    q.send(b"already there")
    notifiee = Notifiee(spawn, channel, q.name)
    q.send(b"second")
    early = notifiee.notifications()
    drain(q.mqd, 16)
    q.send(b"on empty")
    later = notifiee.notifications(wait=DUE)
    observe("notifications: non-empty, then empty", [len(early), len(later)])
    assert (len(early), len(later)) == (0, 1), (
        f"expected no notification for a message on a non-empty queue and one once it arrived on the "
        f"emptied queue; got {len(early)} and {len(later)}")


def _receive(name):
    return mqueue.mq_receive(mqueue.mq_open(name, os.O_RDONLY), 16)


@pytest.mark.claim("pmq.notify.empty")
def test_not_while_a_receiver_waits(mq, spawn, channel, observe):
    """With another process asleep in mq_receive the message goes to it and nothing is notified; the registration stays for the next arrival."""
    q = mq.create(2, 16)
    notifiee = Notifiee(spawn, channel, q.name)
    receiver = spawn(_receive, q.name, name="receiver")
    receiver.wait_blocked("mq_receive", what="receiver of the empty queue")
    q.send(b"taken")
    took = receiver.value(timeout=5)
    during = notifiee.notifications()
    q.send(b"on empty")
    after = notifiee.notifications(wait=DUE)
    observe("receiver got", took[0].decode())
    observe("notifications: receiver waiting, then none", [len(during), len(after)])
    assert took == (b"taken", 0), f"expected the waiting receiver to get b'taken', it got {took}"
    assert (len(during), len(after)) == (0, 1), (
        f"expected no notification while a receiver waited in mq_receive and one for the next "
        f"message on the empty queue; got {len(during)} and {len(after)}")
