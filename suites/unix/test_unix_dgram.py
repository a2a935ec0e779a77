"""unix.dgram_reliable: UNIX datagrams arrive in order with their boundaries; a sender to a full
receiver gets EAGAIN (non-blocking) or sleeps in send() (blocking), and no datagram is lost."""
import socket

import pytest

from fixtures.procs import ChildTimeout
from unix_helpers import receive_all, receive_count, send_until_full

MORE = 3  # blocking sends made once the receiver is full


def datagram(i: int) -> bytes:
    """Datagram i: its number, padded to a size that varies with i (1 to 200 bytes beyond it)."""
    return f"{i}:".encode() + bytes([65 + i % 26]) * (1 + (i * 37) % 200)


def _sender_pair(socks, how):
    """(sender, receiver): a socketpair, or a sender connected to a bound receiver that is not
    connected back (then net.unix.max_dgram_qlen limits the receiver's queue)."""
    if how == "socketpair":
        return socks.socketpair("dgram")
    receiver, address = socks.bound("dgram")
    sender = socks.new("dgram")
    sender.connect(address)
    return sender, receiver


def _observe_limits(observe, kernel, sender):
    observe("net.unix.max_dgram_qlen", kernel.sysctl("net/unix/max_dgram_qlen"))
    observe("sender SO_SNDBUF", sender.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))


HOW = ["socketpair", "connected_to_bound"]


@pytest.mark.claim("unix.dgram_reliable")
@pytest.mark.parametrize("how", HOW)
def test_full_receiver_eagain_nothing_lost(how, socks, kernel, observe):
    """Non-blocking sends stop with EAGAIN when the receiver is full; every accepted datagram is then
    received, in order and whole."""
    sender, receiver = _sender_pair(socks, how)
    _observe_limits(observe, kernel, sender)
    accepted = send_until_full(sender, datagram)
    got = receive_all(receiver)
    observe("datagrams accepted before EAGAIN", accepted)
    assert accepted > 0, "expected the empty receiver to accept a datagram, the first send got EAGAIN"
    expected = [datagram(i) for i in range(accepted)]
    lost = [i for i in range(accepted) if datagram(i) not in got]
    assert got == expected, (
        f"expected the {accepted} accepted datagrams back in order and whole; got {len(got)}, "
        f"missing numbers {lost[:10]}, first differing at {_first_difference(got, expected)}")


def _fill_then_block(sender, report):
    """In the child: fill the receiver without blocking, tell how many went, then send MORE
    datagrams that must wait for room."""
    accepted = send_until_full(sender, datagram)
    report.send(accepted)
    for i in range(accepted, accepted + MORE):
        sender.send(datagram(i))
    return accepted


@pytest.mark.claim("unix.dgram_reliable")
@pytest.mark.parametrize("how", HOW)
def test_blocking_sender_sleeps_nothing_lost(how, socks, kernel, spawn, channel, observe):
    """A blocking sender to a full receiver sleeps in send() until the receiver reads; then every
    datagram, those it waited to send included, arrives in order."""
    sender, receiver = _sender_pair(socks, how)
    _observe_limits(observe, kernel, sender)
    report = channel()
    child = spawn(_fill_then_block, sender, report, name="datagram sender")
    accepted = report.recv(timeout=5, what="datagram sender")
    child.wait_blocked("send", what="sender to a full receiver")
    got = receive_count(receiver, accepted + MORE, what="blocked sender")  # reading makes room
    try:
        child.value(timeout=5)  # every send of the sender returned
    except ChildTimeout as exc:
        raise AssertionError(f"expected the sender to wake once the receiver had read {len(got)} "
                             f"datagrams; it stayed asleep in send() ({exc})") from None
    observe("datagrams accepted before EAGAIN", accepted)
    expected = [datagram(i) for i in range(accepted + MORE)]
    assert got == expected, (
        f"expected all {accepted + MORE} datagrams in order ({MORE} sent after the sender slept); got "
        f"{len(got)}, first differing at {_first_difference(got, expected)}")


def _first_difference(got, expected):
    for i, (a, b) in enumerate(zip(got, expected)):
        if a != b:
            return f"#{i}: {a[:12]!r} instead of {b[:12]!r}"
    return f"#{min(len(got), len(expected))} (lengths {len(got)} and {len(expected)})"
