"""mmap.private: writes to a MAP_PRIVATE file mapping are seen neither by another mapping of the file
(shared or private) nor by read(2) of the file."""
import os

import pytest

import mmap_helpers as mh
from fixtures import shared_memory as shm

ORIGINAL, PRIVATE_WRITE = b"the file's own bytes", b"a private change...."


@pytest.mark.claim("mmap.private")
def test_private_writes_stay_private(ipc, observe):
    """After a write into a MAP_PRIVATE mapping, a MAP_SHARED and another MAP_PRIVATE mapping and read(2) still see the file."""
    page = shm.page_size()
    path = mh.scratch_file(ipc, ORIGINAL, page)
    fd = os.open(path, os.O_RDWR)
    try:
        rw = shm.PROT_READ | shm.PROT_WRITE
        with shm.Mapping(page, rw, shm.MAP_PRIVATE, fd) as private, \
                shm.Mapping(page, shm.PROT_READ, shm.MAP_SHARED, fd) as shared, \
                shm.Mapping(page, shm.PROT_READ, shm.MAP_PRIVATE, fd) as other_private:
            before = shared.read(0, len(ORIGINAL)), other_private.read(0, len(ORIGINAL))
            private.write(0, PRIVATE_WRITE)
            own = private.read(0, len(PRIVATE_WRITE))
            seen = {"MAP_SHARED mapping": shared.read(0, len(ORIGINAL)),
                    "other MAP_PRIVATE mapping": other_private.read(0, len(ORIGINAL)),
                    "read(2)": os.pread(fd, len(ORIGINAL), 0)}
        seen["read(2) after munmap"] = os.pread(fd, len(ORIGINAL), 0)
    finally:
        os.close(fd)
    assert before == (ORIGINAL, ORIGINAL) and own == PRIVATE_WRITE, (
        f"expected the mappings to start with the file's bytes and the private one to hold its own "
        f"write; before {before}, private reads {own!r}")
    leaked = {where: got for where, got in seen.items() if got != ORIGINAL}
    for where, got in seen.items():
        observe(f"{where} unchanged", got == ORIGINAL)
    assert not leaked, f"expected the MAP_PRIVATE write to stay private; it showed in {leaked}"
