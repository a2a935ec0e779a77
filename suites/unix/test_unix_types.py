"""unix.types: AF_UNIX provides SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET sockets, each made by
socketpair() or bind/connect on a path, reporting its type and carrying data both ways."""
import socket

import pytest

from unix_helpers import TYPE_NAMES, TYPES, recv_within


@pytest.mark.claim("unix.types")
@pytest.mark.parametrize("how", ["socketpair", "path"])
@pytest.mark.parametrize("kind", list(TYPES))
def test_each_type_carries_data_both_ways(kind, how, socks, observe):
    """A connected pair of this type reports it in SO_TYPE and delivers a message each way."""
    client, server = socks.connected(kind, how)
    seen = [TYPE_NAMES.get(s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)) for s in (client, server)]
    observe("SO_TYPE", seen[0])
    assert seen == [TYPE_NAMES[TYPES[kind]]] * 2, (
        f"expected both ends to report {TYPE_NAMES[TYPES[kind]]}, SO_TYPE gave {seen}")
    client.send(b"ping")
    got = recv_within(server, 64, what="client")
    server.send(b"pong")
    back = recv_within(client, 64, what="server")
    assert (got, back) == (b"ping", b"pong"), (
        f"expected b'ping' one way and b'pong' back over {kind} ({how}), got {got!r} and {back!r}")
