"""fifo.server_dos: a server's blocking open() of a silent client's FIFO stalls it; O_NONBLOCK + ENXIO is the defence."""
import errno
import os

import pytest

from fifo_helpers import STEP_BOUND
from fixtures import libc, pipes

REQUEST = 64  # fixed-size requests, under PIPE_BUF: each write is one atomic record


def _request(client_fifo: str) -> bytes:
    return client_fifo.encode().ljust(REQUEST, b"\0")


def _serve(server_fifo, requests, nonblocking, listening):
    """An iterative FIFO server: read a request naming the client's FIFO, open it, reply."""
    rfd = os.open(server_fifo, os.O_RDONLY | os.O_NONBLOCK)
    keep = os.open(server_fifo, os.O_WRONLY)  # so that read() never sees EOF between clients
    os.set_blocking(rfd, True)
    listening.send("listening")
    log = []
    for _ in range(requests):
        client = libc.read(rfd, REQUEST).rstrip(b"\0").decode()
        flags = os.O_WRONLY | (os.O_NONBLOCK if nonblocking else 0)
        try:
            cfd = os.open(client, flags)
        except OSError as exc:
            log.append((os.path.basename(client), libc.errno_name(exc.errno)))
            continue
        libc.write(cfd, b"reply")
        os.close(cfd)
        log.append((os.path.basename(client), "served"))
    os.close(keep)
    os.close(rfd)
    return log


def _start(ipc, spawn, channel, nonblocking):
    server_fifo = ipc.fifo(stem="server")
    silent, honest = ipc.fifo(stem="silent-client"), ipc.fifo(stem="honest-client")
    listening = channel()
    server = spawn(_serve, server_fifo, 2, nonblocking, listening,
                   name=f"{'O_NONBLOCK' if nonblocking else 'blocking'} server")
    listening.recv(timeout=STEP_BOUND, what="the server")
    # The honest client waits for its reply; the silent one sends a request and never opens its FIFO.
    honest_fd = os.open(honest, os.O_RDONLY | os.O_NONBLOCK)
    to_server = os.open(server_fifo, os.O_WRONLY | os.O_NONBLOCK)
    os.write(to_server, _request(silent))
    os.write(to_server, _request(honest))
    return server, silent, honest_fd, to_server


@pytest.mark.claim("fifo.server_dos")
def test_silent_client_stalls_blocking_server(ipc, spawn, channel, observe):
    """The server sleeps in open() of the silent client's FIFO and leaves the next request unread until that FIFO is opened."""
    server, silent, honest_fd, to_server = _start(ipc, spawn, channel, nonblocking=False)
    try:
        server.wait_blocked("open", what="server opening the silent client's FIFO")
        waiting = pipes.queued(to_server)
        observe("unread_request_bytes_while_stalled", waiting)
        assert waiting == REQUEST, (
            f"expected the honest client's {REQUEST}-byte request to wait unread while the server "
            f"is stalled, the server FIFO holds {waiting} bytes")
        # The silent client finally opens its FIFO: the server wakes and serves both.
        silent_fd = os.open(silent, os.O_RDONLY | os.O_NONBLOCK)
        try:
            log = server.value(timeout=2)
        finally:
            os.close(silent_fd)
    finally:
        os.close(to_server)
        os.close(honest_fd)
    # the clients' names carry the run's path counters: the outcomes are the stable fact
    observe("served_after_release", [who for who, how in log if how == "served"], run_specific=True)
    observe("outcomes_after_release", [how for _, how in log])
    assert [how for _, how in log] == ["served", "served"], f"expected both served once released, server log {log}"


@pytest.mark.claim("fifo.server_dos")
def test_nonblocking_open_defends_server(ipc, spawn, channel, observe):
    """With O_WRONLY|O_NONBLOCK the server gets ENXIO for the silent client at once and serves the next one."""
    server, silent, honest_fd, to_server = _start(ipc, spawn, channel, nonblocking=True)
    try:
        log = server.value(timeout=2)  # bounded: a stalled server would not finish
        reply = libc.read(honest_fd, 16)
    finally:
        os.close(to_server)
        os.close(honest_fd)
    observe("server_log", [f"{who}: {how}" for who, how in log], run_specific=True)
    observe("outcomes", [how for _, how in log])
    assert [how for _, how in log] == [libc.errno_name(errno.ENXIO), "served"] and reply == b"reply", (
        f"expected ENXIO for the silent client and a reply for the honest one; server log {log}, "
        f"honest client read {reply!r}")
