"""POSIX shared memory objects live in the tmpfs at /dev/shm: without it (libc's shm_open
answers ENOSYS) the claims are not applicable."""
import os

import pytest

import pshm_helpers
from fixtures import shared_memory as shm
from fixtures.facility import require


@pytest.fixture(autouse=True)
def _needs_dev_shm():
    require("POSIX shared memory (/dev/shm)", "CONFIG_TMPFS", shm.shm_probe)


@pytest.fixture
def shm_object(ipc):
    """shm_object(size=0) -> (name, fd): a new object (see pshm_helpers.new_object); its
    descriptors are closed at teardown, its name removed by the ipc fixture."""
    fds = []

    def make(size: int = 0):
        name, fd = pshm_helpers.new_object(ipc, size)
        fds.append(fd)
        return name, fd

    yield make
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass  # the test closed it itself
