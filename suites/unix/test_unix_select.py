"""unix.select: select() and poll() report a UNIX socket readable while data is queued and writable
while its send buffer has room, and follow both as data and room come and go; a select() waiting
for data sleeps until data arrives."""
import select

import pytest

from unix_helpers import receive_all, send_until_full


def ready_select(sock):
    readable, writable, _ = select.select([sock], [sock], [], 0)
    return bool(readable), bool(writable)


def ready_poll(sock):
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLOUT)
    events = dict(poller.poll(0)).get(sock.fileno(), 0)
    return bool(events & select.POLLIN), bool(events & select.POLLOUT)


MECHANISMS = {"select": ready_select, "poll": ready_poll}


@pytest.mark.claim("unix.select")
@pytest.mark.parametrize("mechanism", list(MECHANISMS))
@pytest.mark.parametrize("kind", ["stream", "dgram", "seqpacket"])
def test_readiness_follows_data_and_room(kind, mechanism, socks, observe):
    """(readable, writable) as seen at each step: empty, a message queued, drained, the sender's
    buffer filled, the receiver having read everything."""
    ready = MECHANISMS[mechanism]
    a, b = socks.socketpair(kind)
    seen = {"empty: b": ready(b)}
    a.send(b"x")
    seen["queued: b"] = ready(b)
    receive_all(b)
    seen["drained: b"] = ready(b)
    filled = send_until_full(a, lambda i: b"y" * 4096)
    seen["a's buffer full: a"] = ready(a)
    receive_all(b)
    seen["peer read all: a"] = ready(a)
    observe("messages to fill", filled)
    expected = {"empty: b": (False, True), "queued: b": (True, True), "drained: b": (False, True),
                "a's buffer full: a": (False, False), "peer read all: a": (False, True)}
    observe("(readable, writable)", {k: list(v) for k, v in seen.items()})
    assert seen == expected, (
        f"expected {mechanism}() to report (readable, writable) {expected}, it reported {seen}")


def _select_for_data(sock):
    readable, _, _ = select.select([sock], [], [], 5)
    return [s.fileno() for s in readable]


@pytest.mark.claim("unix.select")
@pytest.mark.parametrize("kind", ["stream", "dgram", "seqpacket"])
def test_select_sleeps_until_data(kind, socks, spawn, observe):
    """A select() for readability on an empty socket sleeps until the peer sends, then reports it."""
    a, b = socks.socketpair(kind)
    waiter = spawn(_select_for_data, b, name="select() on an empty socket")
    waiter.wait_blocked("select", what="select() for readability on an empty socket")
    a.send(b"x")
    ready = waiter.value(timeout=5)
    assert ready == [b.fileno()], f"expected select() to return the socket readable once data came, it returned {ready}"
