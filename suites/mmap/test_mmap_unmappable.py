"""mmap.unmappable: mmap of a descriptor whose file has no mmap operation fails: a UNIX domain socket
and a pseudo-terminal give ENODEV (EACCES where the descriptor is not open for reading)."""
import errno
import os
import socket

import pytest

from fixtures import shared_memory as shm
from fixtures.expect import fails_with
from fixtures.verdict import variant


def _unix_stream():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return [a, b], a.fileno()


def _unix_dgram():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    return [a, b], a.fileno()


def _pty(end):
    def make():
        master, slave = os.openpty()  # a terminal of the test's own; there may be no /dev/tty
        return [master, slave], master if end == "master" else slave
    return make


KINDS = {"unix_stream_socket": _unix_stream, "unix_dgram_socket": _unix_dgram,
         "pty_master": _pty("master"), "pty_slave": _pty("slave")}


@pytest.mark.claim("mmap.unmappable")
@pytest.mark.parametrize("kind", list(KINDS))
def test_mmap_refused(kind, observe):
    """mmap(MAP_SHARED, PROT_READ) of the descriptor fails with ENODEV (or EACCES)."""
    with variant(f"make a {kind.replace('_', ' ')}"):
        held, fd = KINDS[kind]()
    try:
        err = fails_with((errno.ENODEV, errno.EACCES), shm.mmap, shm.page_size(), shm.PROT_READ,
                         shm.MAP_SHARED, fd, what=f"mmap of a {kind.replace('_', ' ')}")
    finally:
        for h in held:
            h.close() if hasattr(h, "close") else os.close(h)
    observe("errno", errno.errorcode[err.errno])
