"""fifo.no_disk_data, fifo.data_lost, fifo.unlink: the data lives in the kernel while the FIFO is open; the name lives until unlink."""
import errno
import os
import stat

import pytest

from fifo_helpers import MAKERS, make_fifo
from fixtures import libc, pipes
from fixtures.expect import fails_with


def _open_both(path):
    """A reader and a writer, neither blocking: the reader opens first, so the writer is no ENXIO."""
    rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    return rfd, os.open(path, os.O_WRONLY | os.O_NONBLOCK)


@pytest.mark.claim("fifo.no_disk_data")
@pytest.mark.parametrize("how", MAKERS)
def test_size_stays_zero_with_data_inside(how, ipc, observe):
    """With 4096 bytes waiting in the FIFO, stat() and fstat() report st_size 0 and st_blocks 0."""
    path = make_fifo(ipc, how)
    rfd, wfd = _open_both(path)
    try:
        os.write(wfd, b"k" * 4096)
        held = pipes.queued(rfd)
        by_name, by_fd = os.stat(path), os.fstat(rfd)
    finally:
        os.close(wfd)
        os.close(rfd)
    observe("bytes_in_fifo", held)
    observe("st_size", by_name.st_size)
    observe("st_blocks", by_name.st_blocks)
    assert held == 4096, f"expected the 4096 bytes to wait in the FIFO, FIONREAD says {held}"
    assert (by_name.st_size, by_name.st_blocks, by_fd.st_size) == (0, 0, 0), (
        f"expected st_size and st_blocks 0 while the FIFO holds {held} bytes; stat gave size "
        f"{by_name.st_size} blocks {by_name.st_blocks}, fstat size {by_fd.st_size}")


def _write_and_exit(path, data):
    fd = os.open(path, os.O_WRONLY)  # returns once the parent opens its reader
    return libc.write(fd, data)


@pytest.mark.claim("fifo.data_lost")
@pytest.mark.parametrize("how", MAKERS)
def test_last_close_discards_data(how, ipc, spawn, observe):
    """Bytes a writer left behind survive its exit while the reader holds the FIFO, and are gone after the reader closes."""
    path = make_fifo(ipc, how)
    data = b"left behind"
    writer = spawn(_write_and_exit, path, data, name="writer")
    rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        writer.value(timeout=2)
        held_after_writer_exit = pipes.queued(rfd)
    finally:
        os.close(rfd)  # the last descriptor of the FIFO anywhere
    rfd, wfd = _open_both(path)
    try:
        held_after_last_close = pipes.queued(rfd)
        empty = fails_with(errno.EAGAIN, libc.read, rfd, 64,
                           what="read() of the reopened FIFO (a writer open, no data)")
    finally:
        os.close(wfd)
        os.close(rfd)
    observe("bytes_after_writer_exit", held_after_writer_exit)
    observe("bytes_after_last_close", held_after_last_close)
    observe("read_after_reopen", libc.errno_name(empty.errno))
    assert held_after_writer_exit == len(data), (
        f"expected the {len(data)} bytes to wait while the reader kept the FIFO open, it held {held_after_writer_exit}")
    assert held_after_last_close == 0, (
        f"expected the FIFO to be empty after its last close, the reopened FIFO holds {held_after_last_close} bytes")


@pytest.mark.claim("fifo.unlink")
@pytest.mark.parametrize("how", MAKERS)
def test_name_until_unlink_descriptors_after(how, ipc, observe):
    """The name outlives every close; after unlink() the open descriptors still carry data."""
    path = make_fifo(ipc, how)
    rfd, wfd = _open_both(path)
    os.close(wfd)
    os.close(rfd)
    st = os.lstat(path)  # FileNotFoundError would mean the name went with the last close
    observe("name_after_last_close", stat.S_ISFIFO(st.st_mode))
    assert stat.S_ISFIFO(st.st_mode), f"expected the FIFO's name to remain after every close, it is {st}"
    rfd, wfd = _open_both(path)
    try:
        os.unlink(path)
        gone = not os.path.lexists(path)
        os.write(wfd, b"after unlink")
        got = libc.read(rfd, 64)
    finally:
        os.close(wfd)
        os.close(rfd)
    observe("name_after_unlink", not gone)
    observe("read_after_unlink", got.decode())
    assert gone, "expected unlink() to remove the FIFO's name"
    assert got == b"after unlink", (
        f"expected the descriptors opened before unlink() to keep passing data, read() gave {got!r}")
