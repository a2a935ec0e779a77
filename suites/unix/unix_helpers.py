"""UNIX domain sockets for the unix suite: addresses inside the test's own directory (within
sun_path), connected pairs of each socket type, non-blocking fill and drain, bounded receives.

Python's socket module makes one syscall per call here (send, recv, connect); what it adds
is an EINTR retry, which no claim of this suite depends on. Blocking sockets stay blocking:
settimeout() would set O_NONBLOCK on the open file description that a forked child shares.
"""
from __future__ import annotations

import errno
import os
import select
import socket
import time

from fixtures.procs import ChildTimeout
from fixtures.verdict import SuiteError

# sizeof(((struct sockaddr_un *)0)->sun_path) on Linux, every ABI; one byte is kept for the
# NUL that readers of the address expect.
SUN_PATH_MAX = 108
TYPES = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM,
         "seqpacket": socket.SOCK_SEQPACKET}
TYPE_NAMES = {v: "SOCK_" + k.upper() for k, v in TYPES.items()}


def socket_path(ipc, stem: str = "sock") -> str:
    """A path for a socket file in the test's own directory; a SuiteError naming the limit when
    the run directory makes it longer than sun_path holds (bind would refuse it)."""
    path = ipc.path(stem)
    size = len(os.fsencode(path))
    if size >= SUN_PATH_MAX:
        raise SuiteError(f"socket path {path!r} is {size} bytes, sun_path holds "
                         f"{SUN_PATH_MAX - 1} and a NUL: run with a shorter TMPDIR")
    return path


def abstract_name(ipc) -> bytes:
    """A unique address in the abstract namespace: a NUL, then the run's POSIX-style name."""
    return b"\0" + ipc.name().lstrip("/").encode()


class Sockets:
    """The test's sockets, every one closed at teardown (the files stay in ipc.dir, removed
    with it)."""

    def __init__(self, ipc):
        self.ipc = ipc
        self._made: list[socket.socket] = []

    def new(self, kind: str) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, TYPES[kind])
        self._made.append(sock)
        return sock

    def adopt(self, *socks: socket.socket):
        self._made.extend(socks)
        return socks

    def socketpair(self, kind: str) -> tuple[socket.socket, socket.socket]:
        return self.adopt(*socket.socketpair(socket.AF_UNIX, TYPES[kind]))

    def bound(self, kind: str, address=None, listen: bool = True) -> tuple[socket.socket, object]:
        """A socket bound to `address` (default: a new path); listening for stream/seqpacket."""
        address = address or socket_path(self.ipc)
        sock = self.new(kind)
        sock.bind(address)
        if listen and kind != "dgram":
            sock.listen(8)
        return sock, address

    def connected(self, kind: str, how: str = "path") -> tuple[socket.socket, socket.socket]:
        """(client, server) of `kind`, made by socketpair() or by bind/listen/connect/accept
        on a path (dgram: both bound to paths and connected to each other)."""
        if how == "socketpair":
            return self.socketpair(kind)
        server, address = self.bound(kind)
        if kind == "dgram":
            client, client_address = self.bound(kind)
            client.connect(address)
            server.connect(client_address)
            return client, server
        client = self.new(kind)
        client.connect(address)
        accepted, _ = accept(server)
        self.adopt(accepted)
        return client, accepted

    def close(self) -> None:
        for sock in self._made:
            sock.close()
        self._made.clear()


def accept(listener: socket.socket, timeout: float = 5.0, what: str = "peer"):
    """accept() once a connection is queued, failing after `timeout` seconds."""
    ready, _, _ = select.select([listener], [], [], timeout)
    if not ready:
        raise ChildTimeout(f"{what} never connected within {timeout}s")
    return listener.accept()


def recv_within(sock: socket.socket, size: int, timeout: float = 5.0, what: str = "peer") -> bytes:
    """One recv() of up to `size` bytes once something is readable, failing after `timeout`."""
    ready, _, _ = select.select([sock], [], [], timeout)
    if not ready:
        raise ChildTimeout(f"nothing from {what} within {timeout}s")
    return sock.recv(size, socket.MSG_DONTWAIT)


def send_until_full(sock: socket.socket, message) -> int:
    """send(MSG_DONTWAIT) message(i) for i = 0, 1, ... until EAGAIN: how many were accepted.
    MSG_DONTWAIT, not O_NONBLOCK: the socket stays blocking for a child that shares it."""
    count = 0
    while True:
        try:
            sock.send(message(count), socket.MSG_DONTWAIT)
        except OSError as exc:
            if exc.errno != errno.EAGAIN:
                raise
            return count
        count += 1


def receive_all(sock: socket.socket, size: int = 65536) -> list[bytes]:
    """recv(MSG_DONTWAIT) until EAGAIN: every message (or chunk) that was queued, in order."""
    got = []
    while True:
        try:
            data = sock.recv(size, socket.MSG_DONTWAIT)
        except OSError as exc:
            if exc.errno != errno.EAGAIN:
                raise
            return got
        if not data and sock.type == socket.SOCK_STREAM:
            return got
        got.append(data)


def receive_count(sock: socket.socket, count: int, size: int = 65536, timeout: float = 5.0,
                  what: str = "sender") -> list[bytes]:
    """`count` messages, each once readable, failing after `timeout` seconds in all."""
    deadline = time.monotonic() + timeout
    got = []
    while len(got) < count:
        left = max(deadline - time.monotonic(), 0)
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            raise ChildTimeout(f"{len(got)} of {count} messages from {what} within {timeout}s")
        got.append(sock.recv(size, socket.MSG_DONTWAIT))
    return got
