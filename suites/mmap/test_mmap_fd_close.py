"""mmap.fd_close: the descriptor can be closed right after mmap: the mapping stays valid, and writes
through it still reach the file."""
import os

import pytest

import mmap_helpers as mh
from fixtures import shared_memory as shm

ORIGINAL, CHANGE = b"the file's own bytes", b"written after close!"


@pytest.mark.claim("mmap.fd_close")
def test_mapping_outlives_descriptor(ipc, observe):
    """With its only descriptor closed, the mapping reads the file and its writes land in the file."""
    page = shm.page_size()
    path = mh.scratch_file(ipc, ORIGINAL, page)
    fd = os.open(path, os.O_RDWR)
    with shm.Mapping(page, fd=fd) as area:
        os.close(fd)
        still_mapped = shm.maps_address(area.addr) is not None
        read_back = area.read(0, len(ORIGINAL))
        area.write(0, CHANGE)
    with open(path, "rb") as f:
        in_file = f.read(len(CHANGE))
    observe("still mapped after close", still_mapped)
    observe("reads the file after close", read_back == ORIGINAL)
    observe("write after close reached the file", in_file == CHANGE)
    assert (still_mapped, read_back, in_file) == (True, ORIGINAL, CHANGE), (
        f"expected the mapping to stay after close(fd), reading {ORIGINAL!r}, and its write to reach "
        f"the file; mapped {still_mapped}, read {read_back!r}, the file holds {in_file!r}")
