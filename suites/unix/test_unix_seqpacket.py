"""unix.seqpacket: SOCK_SEQPACKET over AF_UNIX is connection-oriented (ENOTCONN before connect,
ECONNREFUSED from a socket that does not listen, EOF when the peer closes) and keeps boundaries."""
import errno
import socket

import pytest

from fixtures.expect import fails_with
from unix_helpers import receive_all, recv_within

MESSAGES = [b"a", b"bb", b"ccc", b"x" * 1000]


@pytest.mark.claim("unix.seqpacket")
@pytest.mark.parametrize("how", ["send", "sendto_listener"])
def test_send_before_connect_enotconn(how, socks, observe):
    """send() on an unconnected seqpacket socket, even addressed to a listener, fails with ENOTCONN."""
    listener, address = socks.bound("seqpacket")
    sock = socks.new("seqpacket")
    if how == "send":
        err = fails_with(errno.ENOTCONN, sock.send, b"x", what="send() on an unconnected SOCK_SEQPACKET")
    else:
        err = fails_with(errno.ENOTCONN, sock.sendto, b"x", address,
                         what="sendto(listening path) on an unconnected SOCK_SEQPACKET")
    observe("errno", errno.errorcode[err.errno])


@pytest.mark.claim("unix.seqpacket")
def test_connect_needs_a_listener(socks, observe):
    """connect() to a bound seqpacket socket that never called listen() fails with ECONNREFUSED."""
    _, address = socks.bound("seqpacket", listen=False)
    err = fails_with(errno.ECONNREFUSED, socks.new("seqpacket").connect, address,
                     what="connect() to a bound, non-listening SOCK_SEQPACKET")
    observe("errno", errno.errorcode[err.errno])


@pytest.mark.claim("unix.seqpacket")
@pytest.mark.parametrize("how", ["socketpair", "path"])
def test_boundaries_kept(how, socks, observe):
    """Messages sent one by one are read one per recv(), each whole, however large the buffer."""
    client, server = socks.connected("seqpacket", how)
    for message in MESSAGES:
        client.send(message)
    got = receive_all(server, 65536)
    observe("read sizes", [len(m) for m in got])
    assert got == MESSAGES, (
        f"expected one read per message {[len(m) for m in MESSAGES]}, reads gave {[len(m) for m in got]}")


@pytest.mark.claim("unix.seqpacket")
def test_short_read_truncates_one_message(socks, observe):
    """A 4-byte read of a 10-byte message gives its first 4 bytes with MSG_TRUNC; the next read is the
    next message (the rest of the first is discarded)."""
    client, server = socks.connected("seqpacket")
    client.send(b"0123456789")
    client.send(b"next")
    data, _, flags, _ = server.recvmsg(4, 0, socket.MSG_DONTWAIT)
    following = server.recv(64, socket.MSG_DONTWAIT)
    observe("MSG_TRUNC", bool(flags & socket.MSG_TRUNC))
    assert (data, bool(flags & socket.MSG_TRUNC), following) == (b"0123", True, b"next"), (
        f"expected b'0123' with MSG_TRUNC, then b'next'; got {data!r} (flags {flags:#x}), then {following!r}")


@pytest.mark.claim("unix.seqpacket")
def test_peer_close_is_eof(socks, observe):
    """After the peer closes, the queued message is still read, then recv() returns 0 bytes (EOF)."""
    client, server = socks.connected("seqpacket")
    client.send(b"last")
    client.close()
    got = [recv_within(server, 64, what="closed client"), recv_within(server, 64, what="closed client")]
    observe("reads after close", [len(m) for m in got])
    assert got == [b"last", b""], f"expected b'last' then EOF (b''), reads gave {got}"
