"""lock.advisory: record locks are advisory: a process that asks for no lock reads and writes
a region another process has read- or write-locked."""
import os

import pytest

from fixtures.expect import succeeds
from fixtures.locks import F_RDLCK, F_WRLCK
from lock_helpers import hold_fcntl_lock, make_file


@pytest.mark.claim("lock.advisory")
@pytest.mark.parametrize("held", [F_RDLCK, F_WRLCK], ids=["read-locked", "write-locked"])
def test_unlocked_io_ignores_the_lock(held, ipc, spawn, channel, observe):
    """pwrite and pread of a locked region by a process without a lock succeed and take effect."""
    path = make_file(ipc.path("locked"), size=64)
    ready, release = channel(), channel()
    spawn(hold_fcntl_lock, path, held, 0, 0, ready, release, name="lock holder")
    ready.recv(what="lock holder")
    # O_NONBLOCK: were the lock enforced, I/O would fail with EAGAIN instead of hanging the test.
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    try:
        written = succeeds(os.pwrite, fd, b"advisory", 16, what="pwrite into the locked region")
        back = succeeds(os.pread, fd, 8, 16, what="pread of the locked region")
    finally:
        os.close(fd)
    observe("bytes_written", written)
    observe("read_back", back.decode())
    assert (written, back) == (8, b"advisory"), (
        f"expected the unlocked writer to write 8 bytes and read them back, "
        f"kernel wrote {written} and returned {back!r}")
