"""psem.max: sem_post on a semaphore at SEM_VALUE_MAX fails with EOVERFLOW and leaves the value;
sem_init above SEM_VALUE_MAX fails with EINVAL."""
import errno
import os
from contextlib import contextmanager

import pytest

from fixtures import posix_sem as ps
from fixtures.expect import fails_with

MAX = ps.SEM_VALUE_MAX


@contextmanager
def _at_max(kind, ipc):
    """A semaphore made at SEM_VALUE_MAX: sem_init in a slot, or sem_open of a new name."""
    if kind == "unnamed":
        with ps.SemSlots(MAX, pshared=0) as slots:
            yield slots[0]
        return
    name = ipc.adopt_posix("sem", ipc.name())
    sem = ps.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, MAX)
    try:
        yield sem
    finally:
        ps.sem_close(sem)


@pytest.mark.claim("psem.max")
@pytest.mark.parametrize("kind", ["unnamed", "named"])
def test_post_at_sem_value_max_overflows(kind, ipc, observe):
    """Made at SEM_VALUE_MAX (sem_init or sem_open), the semaphore refuses sem_post with EOVERFLOW."""
    observe("SEM_VALUE_MAX", MAX)
    with _at_max(kind, ipc) as sem:
        fails_with(errno.EOVERFLOW, ps.sem_post, sem, what=f"sem_post at SEM_VALUE_MAX ({kind})")
        value = ps.sem_getvalue(sem)
    assert value == MAX, f"expected the refused post to leave the value at {MAX}, it reads {value}"


@pytest.mark.claim("psem.max")
def test_sem_init_above_sem_value_max_is_einval(observe):
    """sem_init with SEM_VALUE_MAX + 1 fails with EINVAL."""
    with ps.SemSlots() as room:
        err = fails_with(errno.EINVAL, ps.sem_init, room.addr, 0, MAX + 1,
                         what=f"sem_init(value=SEM_VALUE_MAX + 1 = {MAX + 1})")
    observe("errno", errno.errorcode[err.errno])
