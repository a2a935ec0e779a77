"""psem.max: sem_post on a semaphore at SEM_VALUE_MAX fails with EOVERFLOW and leaves the value;
sem_init above SEM_VALUE_MAX fails with EINVAL."""
import errno
import os

import pytest

from fixtures import posix_sem as ps
from fixtures.expect import fails_with

MAX = ps.SEM_VALUE_MAX


@pytest.mark.claim("psem.max")
@pytest.mark.parametrize("kind", ["unnamed", "named"])
def test_post_at_sem_value_max_overflows(kind, ipc, observe):
    """Made at SEM_VALUE_MAX (sem_init or sem_open), the semaphore refuses sem_post with EOVERFLOW."""
    observe("SEM_VALUE_MAX", MAX)
    if kind == "unnamed":
        slots = ps.SemSlots(MAX, pshared=0)
        sem, close = slots[0], slots.close
    else:
        name = ipc.adopt_posix("sem", ipc.name())
        sem = ps.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, MAX)
        close = lambda: ps.sem_close(sem)  # noqa: E731
    try:
        fails_with(errno.EOVERFLOW, ps.sem_post, sem, what=f"sem_post at SEM_VALUE_MAX ({kind})")
        value = ps.sem_getvalue(sem)
    finally:
        close()
    assert value == MAX, f"expected the refused post to leave the value at {MAX}, it reads {value}"


@pytest.mark.claim("psem.max")
def test_sem_init_above_sem_value_max_is_einval(observe):
    """sem_init with SEM_VALUE_MAX + 1 fails with EINVAL."""
    with ps.SemSlots() as room:
        err = fails_with(errno.EINVAL, ps.sem_init, room.addr, 0, MAX + 1,
                         what=f"sem_init(value=SEM_VALUE_MAX + 1 = {MAX + 1})")
    observe("errno", errno.errorcode[err.errno])
