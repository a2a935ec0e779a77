"""pshm.persistence: a shared memory object outlives its creator: after the creator exits without
shm_unlink, another process opens it by name and finds its size and data."""
import os

import pytest

import pshm_helpers as ph
from fixtures import shared_memory as shm

DATA = b"left by a process that has exited"


def _create_and_exit(name, size):
    fd = shm.shm_open(name, ph.CREATE, 0o600)
    shm.ftruncate(fd, size)
    with shm.Mapping(size, fd=fd) as area:
        area.write(size - len(DATA), DATA)
    return os.getpid()  # exit closes the fd; nothing unlinks the name


@pytest.mark.claim("pshm.persistence")
def test_object_outlives_its_creator(ipc, spawn, observe):
    """The creator's object, opened by name after the creator was reaped, has its size and data."""
    name = ipc.adopt_posix("shm", ipc.name())
    size = shm.page_size() + 7
    spawn.run(_create_and_exit, name, size, name="creator", timeout=5).unwrap()
    fd = shm.shm_open(name, os.O_RDWR)
    try:
        found_size = os.fstat(fd).st_size
        with shm.Mapping(found_size, shm.PROT_READ, shm.MAP_SHARED, fd) as area:
            found = area.read(found_size - len(DATA), len(DATA))
    finally:
        os.close(fd)
    observe("size after the creator exited", found_size)
    observe("data intact", found == DATA)
    assert (found_size, found) == (size, DATA), (
        f"expected the object to outlive its creator with {size} bytes ending in {DATA!r}; "
        f"it has {found_size} bytes ending in {found!r}")
