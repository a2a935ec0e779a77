"""mmap.file_shared: a MAP_SHARED file mapping starts with the file's contents; writes to it are seen by
another mapping and by read(2), msync(MS_SYNC) returns 0, and the data is in the file after munmap."""
import os

import pytest

import mmap_helpers as mh
from fixtures import shared_memory as shm

ORIGINAL, CHANGE = b"the file's own bytes", b"changed via mapping!"
AT = 100


@pytest.mark.claim("mmap.file_shared")
def test_shared_writes_reach_file_and_other_mapping(ipc, observe):
    """A write into one MAP_SHARED mapping shows in a second mapping and in read(2); msync gives 0; munmap keeps it."""
    page = shm.page_size()
    path = mh.scratch_file(ipc, ORIGINAL, 2 * page)
    fd = os.open(path, os.O_RDWR)
    try:
        with shm.Mapping(2 * page, fd=fd) as one, \
                shm.Mapping(2 * page, shm.PROT_READ, shm.MAP_SHARED, fd) as other:
            initial = one.read(0, len(ORIGINAL))
            one.write(page + AT, CHANGE)
            in_other = other.read(page + AT, len(CHANGE))
            by_read = os.pread(fd, len(CHANGE), page + AT)
            synced = one.msync(shm.MS_SYNC)
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        f.seek(page + AT)
        after_munmap = f.read(len(CHANGE))
    observe("msync(MS_SYNC) returned", synced)
    seen = {"initial contents": initial == ORIGINAL, "other mapping": in_other == CHANGE,
            "read(2)": by_read == CHANGE, "file after munmap": after_munmap == CHANGE}
    for what, ok in seen.items():
        observe(what, ok)
    assert all(seen.values()) and synced == 0, (
        f"expected the mapping to start as the file and its write to reach the other mapping, read(2) "
        f"and the file, with msync(MS_SYNC) = 0; {seen}, msync returned {synced}")
