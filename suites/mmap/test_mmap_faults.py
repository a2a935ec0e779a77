"""mmap.sigsegv: touching an address after munmap kills a process with default dispositions by SIGSEGV.
mmap.sigbus: in a file mapping longer than the file, touching a page wholly beyond end of file kills it
by SIGBUS, while the rest of the page that holds end of file reads as zeros."""
import os
import signal

import pytest

import mmap_helpers as mh
from fixtures import shared_memory as shm

TAIL = 100  # the file ends this many bytes into its second page


def _touch_after_munmap():
    mh.default_fault_signals()
    page = shm.page_size()
    area = shm.anonymous_shared(page)
    area.write(0, b"x")
    addr = area.addr
    area.close()  # munmap
    return shm.peek(addr, 1)  # SIGSEGV here


@pytest.mark.claim("mmap.sigsegv")
def test_touch_after_munmap_is_sigsegv(spawn, observe):
    """A default-disposition child reading a page it has unmapped is killed by SIGSEGV."""
    result = spawn.run(_touch_after_munmap, name="reader of an unmapped page", timeout=5)
    observe("reader of an unmapped page", str(result))
    assert result.signal == signal.SIGSEGV, (
        f"expected the child killed by SIGSEGV when it read the address after munmap; the child {result}")


def _touch_beyond_eof(path, offset, length):
    """Map three pages of the file (one page and TAIL bytes long) and read `length` bytes at `offset`."""
    mh.default_fault_signals()
    fd = os.open(path, os.O_RDONLY)
    area = shm.Mapping(3 * shm.page_size(), shm.PROT_READ, shm.MAP_SHARED, fd)
    return area.read(offset, length)


@pytest.fixture
def short_file(ipc):
    """A file of one page and TAIL bytes, all 0xff."""
    return mh.scratch_file(ipc, b"\xff" * (shm.page_size() + TAIL))


@pytest.mark.claim("mmap.sigbus")
def test_page_wholly_beyond_eof_is_sigbus(short_file, spawn, observe):
    """Reading the third page of the mapping, past the page that holds end of file, kills the child by SIGBUS."""
    page = shm.page_size()
    result = spawn.run(_touch_beyond_eof, short_file, 2 * page, 1, name="reader past EOF", timeout=5)
    observe("reader of the page wholly beyond EOF", str(result))
    assert result.signal == signal.SIGBUS, (
        f"expected the child killed by SIGBUS reading the page wholly beyond end of file; the child {result}")


@pytest.mark.claim("mmap.sigbus")
def test_rest_of_eof_page_reads_zeros(short_file, spawn, observe):
    """Reading the page that holds end of file, beyond it, gives zeros and no signal."""
    page = shm.page_size()
    result = spawn.run(_touch_beyond_eof, short_file, page, page, name="reader of the EOF page", timeout=5)
    observe("reader of the rest of the EOF page", str(result) if result.signal else "lived")
    got = result.unwrap()
    assert got == b"\xff" * TAIL + bytes(page - TAIL), (
        f"expected the page holding end of file to read its {TAIL} bytes then zeros, without a signal; "
        f"it read {got[:TAIL + 16]!r}...")
