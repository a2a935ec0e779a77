"""sysvsem.atomic: the operations of one semop array are applied together or not at all: while the
call sleeps on a later operation none of the earlier ones is applied, and a call that fails
(EAGAIN with IPC_NOWAIT, ERANGE) leaves every value as it was."""
import errno

import pytest

import sysvsem_helpers as sem
from fixtures import libc, sysv
from fixtures.expect import fails_with

NOWAIT = libc.IPC_NOWAIT
# The first operation alone would succeed on semaphore 0 at 1; the second cannot proceed.
START = [1, 0]
TAKE_BOTH = [(0, -1, 0), (1, -1, 0)]


@pytest.mark.claim("sysvsem.atomic")
def test_nothing_applied_while_asleep(ipc, spawn, observe):
    """semop([0:-1, 1:-1]) on values [1, 0] sleeps with semaphore 0 still at 1 (another process can
    take it meanwhile), and takes both once both are available."""
    semid = ipc.sem(2)
    sysv.semctl_setall(semid, START)
    child = sem.sleeping_in_semop(spawn, semid, TAKE_BOTH, "semop([0:-1, 1:-1]) on [1, 0]")
    asleep = sysv.semctl_getall(semid, 2)
    observe("values while it sleeps", asleep)
    assert asleep == START, (
        f"expected no operation of the sleeping array applied (values {START}), GETALL gave {asleep}")
    sysv.semop(semid, [(0, -1, NOWAIT)])  # semaphore 0 is still free: this process takes it
    sysv.semop(semid, [(0, +1, 0), (1, +1, 0)])
    observe("sleeper", sem.woke(child, "semop([0:-1, 1:-1]) once both semaphores were 1"))
    after = sysv.semctl_getall(semid, 2)
    assert after == [0, 0], f"expected the woken array to take both semaphores to [0, 0], GETALL gave {after}"


FAILING = [
    pytest.param([1, 0], [(0, -1, NOWAIT), (1, -1, NOWAIT)], errno.EAGAIN, id="second_would_sleep_nowait"),
    pytest.param([1, 0], [(0, +1, NOWAIT), (1, -1, NOWAIT)], errno.EAGAIN, id="increment_then_nowait"),
    pytest.param([1, sysv.SEMVMX], [(0, -1, 0), (1, +1, 0)], errno.ERANGE, id="second_above_semvmx"),
]


@pytest.mark.claim("sysvsem.atomic")
@pytest.mark.parametrize("start, ops, expected", FAILING)
def test_failed_array_changes_nothing(ipc, observe, start, ops, expected):
    """A semop array whose second operation fails returns the error and leaves the first semaphore
    as it was, although its own operation could have been applied."""
    semid = ipc.sem(2)
    sysv.semctl_setall(semid, start)
    err = fails_with(expected, sysv.semop, semid, ops,
                     what=f"semop({sysv.describe_sops(ops)}) on {start}")
    observe("errno", libc.errno_name(err.errno))
    after = sysv.semctl_getall(semid, 2)
    observe("values after", after)
    assert after == start, f"expected the failed array to leave the values at {start}, GETALL gave {after}"
