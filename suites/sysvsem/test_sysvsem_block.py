"""sysvsem.block: a semop that would take a semaphore below 0 sleeps until it can proceed, and
with IPC_NOWAIT fails with EAGAIN instead; sem_op 0 waits until the value is 0."""
import errno

import pytest

import sysvsem_helpers as sem
from fixtures import libc, sysv
from fixtures.expect import fails_with


@pytest.mark.claim("sysvsem.block")
def test_decrement_below_zero_sleeps(ipc, spawn, observe):
    """semop(-2) on a semaphore at 1 sleeps in semop without taking anything, and returns once a
    semop(+1) makes the value 2; the value is then 0."""
    semid = ipc.sem(1)
    sysv.semset_value(semid, 1)
    child = sem.sleeping_in_semop(spawn, semid, [(0, -2, 0)], "semop(-2) on a semaphore at 1")
    asleep_at = sysv.semget_value(semid)
    observe("value while the decrementer sleeps", asleep_at)
    assert asleep_at == 1, f"expected the sleeping semop(-2) to leave the value at 1, it is {asleep_at}"
    sysv.semop(semid, [(0, +1, 0)])
    observe("decrementer", sem.woke(child, "semop(-2) once the value reached 2"))
    value = sysv.semget_value(semid)
    assert value == 0, f"expected the woken semop(-2) to take the value from 2 to 0, it is {value}"


@pytest.mark.claim("sysvsem.block")
@pytest.mark.parametrize("sem_op, value", [(-2, 1), (0, 1)], ids=["decrement_below_zero", "wait_for_zero"])
def test_nowait_eagain(ipc, observe, sem_op, value):
    """With IPC_NOWAIT, a semop that would sleep fails at once with EAGAIN and changes nothing."""
    semid = ipc.sem(1)
    sysv.semset_value(semid, value)
    err = fails_with(errno.EAGAIN, sysv.semop, semid, [(0, sem_op, libc.IPC_NOWAIT)],
                     what=f"semop(sem_op={sem_op}, IPC_NOWAIT) on a semaphore at {value}")
    observe("errno", libc.errno_name(err.errno))
    after = sysv.semget_value(semid)
    assert after == value, f"expected the refused semop to leave the value at {value}, it is {after}"


@pytest.mark.claim("sysvsem.block")
def test_zero_waits_for_zero(ipc, spawn, observe):
    """semop(0) on a semaphore at 1 sleeps, and returns once a semop(-1) brings the value to 0."""
    semid = ipc.sem(1)
    sysv.semset_value(semid, 1)
    child = sem.sleeping_in_semop(spawn, semid, [(0, 0, 0)], "semop(0) on a semaphore at 1")
    sysv.semop(semid, [(0, -1, 0)])
    observe("zero waiter", sem.woke(child, "semop(0) once the value reached 0"))


@pytest.mark.claim("sysvsem.block")
def test_zero_on_zero_returns(ipc, spawn, observe):
    """semop(0) on a semaphore already at 0 returns without sleeping."""
    semid = ipc.sem(1)
    result = spawn.run(sem.semop_returns, semid, [(0, 0, 0)], name="semop(0) on 0", timeout=2)
    observe("zero waiter on 0", str(result))
    assert result.value == "semop returned", f"expected semop(0) on 0 to return at once, the child {result}"
