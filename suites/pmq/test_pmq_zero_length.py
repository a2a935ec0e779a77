"""pmq.zero_length: a message may have zero length."""
import pytest


@pytest.mark.claim("pmq.zero_length")
def test_zero_length_message(mq, observe):
    """mq_send of 0 bytes queues a message, which mq_receive returns as 0 bytes with its priority."""
    q = mq.create(2, 16)
    q.send(b"", 7)
    queued = q.curmsgs()
    data, prio = q.receive()
    observe("mq_curmsgs after the send", queued)
    observe("received length", len(data))
    assert (queued, data, prio) == (1, b"", 7), (
        f"expected one queued message received as 0 bytes at priority 7; mq_curmsgs was {queued}, "
        f"received {data!r} at priority {prio}")
