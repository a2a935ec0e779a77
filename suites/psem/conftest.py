"""POSIX semaphores need futex(2) (CONFIG_FUTEX) and, for named ones, the tmpfs at /dev/shm
that libc keeps them in: without either the claims are not applicable."""
import pytest

from fixtures import shared_memory as shm
from fixtures.facility import futex_probe, require


@pytest.fixture(autouse=True)
def _needs_futex_and_dev_shm():
    require("futex(2), under POSIX semaphores", "CONFIG_FUTEX", futex_probe)
    require("/dev/shm, where libc keeps named semaphores", "CONFIG_TMPFS", shm.shm_probe)
