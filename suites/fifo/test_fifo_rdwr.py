"""fifo.rdwr: Linux opens a FIFO O_RDWR at once with no other process, and the opener reads back its own writes."""
import os

import pytest

from fifo_helpers import MAKERS, make_fifo
from fixtures import libc


def _talk_to_itself(path):
    fd = os.open(path, os.O_RDWR)  # no other process has the FIFO open
    try:
        written = libc.write(fd, b"echo")
        return {"written": written, "read_back": libc.read(fd, 16)}
    finally:
        os.close(fd)


@pytest.mark.claim("fifo.rdwr")
@pytest.mark.parametrize("how", MAKERS)
def test_open_rdwr_alone(how, ipc, spawn, observe):
    """open(O_RDWR) of a FIFO nobody else has open returns at once, and read() gives back the bytes written."""
    path = make_fifo(ipc, how)
    # Bounded: a kernel that treated O_RDWR like one end would leave the child asleep in open().
    seen = spawn.run(_talk_to_itself, path, timeout=2, name="O_RDWR opener").unwrap()
    observe("opened_alone", True)
    observe("read_back", seen["read_back"].decode())
    assert seen["read_back"] == b"echo", (
        f"expected the O_RDWR descriptor to read back b'echo', read() returned {seen['read_back']!r}")
