"""pmq.priority: mq_receive returns the oldest message of the highest priority."""
import pytest

from pmq_helpers import drain

# Sent in this order: priorities repeat out of order, so "highest first" and "oldest of that
# priority first" are both needed to get the expected sequence; 0 is the lowest.
SENT = [(b"a", 1), (b"b", 5), (b"c", 0), (b"d", 5), (b"e", 3), (b"f", 1), (b"g", 5), (b"h", 0)]


def expected_order(sent):
    """Highest priority first, in sending order within a priority (sorted() is stable)."""
    return sorted(sent, key=lambda m: -m[1])


@pytest.mark.claim("pmq.priority")
def test_receive_order_is_priority_then_age(mq, observe, partial):
    """Every receive takes the oldest message of the highest priority left, and reports that priority."""
    q = mq.create(len(SENT), 16)
    room = q.attr().mq_maxmsg
    sent = SENT[:room]
    if room < len(SENT):
        partial("last messages", f"fs.mqueue.msg_max allows only {room} of the {len(SENT)} messages")
    for data, prio in sent:
        q.send(data, prio)
    got = drain(q.mqd, 16)
    observe("received", " ".join(f"{d.decode()}{p}" for d, p in got))
    want = expected_order(sent)
    assert got == want, (
        f"expected the messages sent as {sent} to come out as {want} (highest priority first, "
        f"oldest first within one), the kernel gave {got}")
