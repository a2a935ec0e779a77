"""sysvsem.ctl: semctl GETVAL/SETVAL and GETALL/SETALL round-trip the values; GETPID is the pid of
the last process that operated on the semaphore; GETNCNT and GETZCNT count the processes asleep
waiting for that semaphore to increase or to become 0."""
import os

import pytest

import sysvsem_helpers as sem
from fixtures import sysv


@pytest.mark.claim("sysvsem.ctl")
@pytest.mark.parametrize("value", [0, 1, 7, sysv.SEMVMX], ids=["0", "1", "7", "SEMVMX"])
def test_setval_getval(ipc, value):
    """GETVAL returns what SETVAL set, on the semaphore it was set on only."""
    semid = ipc.sem(2)
    sysv.semset_value(semid, value, num=1)
    got = [sysv.semget_value(semid, num) for num in (0, 1)]
    assert got == [0, value], f"expected GETVAL [0, {value}] after SETVAL({value}) on semaphore 1, got {got}"


@pytest.mark.claim("sysvsem.ctl")
def test_setall_getall(ipc, observe):
    """GETALL returns what SETALL set, and GETVAL of each semaphore agrees."""
    values = [3, 0, sysv.SEMVMX, 1, 9]
    semid = ipc.sem(len(values))
    sysv.semctl_setall(semid, values)
    got = sysv.semctl_getall(semid, len(values))
    each = [sysv.semget_value(semid, num) for num in range(len(values))]
    observe("GETALL", got)
    assert got == each == values, f"expected GETALL and GETVAL {values} after SETALL, got {got} and {each}"


def _semop_and_pid(semid, ops):
    sysv.semop(semid, ops)
    return os.getpid()


@pytest.mark.claim("sysvsem.ctl")
def test_getpid_is_last_semop_caller(ipc, spawn, observe, kernel):
    """GETPID of a semaphore is 0 before any operation, the pid of a child after its semop, this
    process's pid after its own; SETVAL (always on Linux) and SETALL (since 4.6) set it too."""
    semid = ipc.sem(2)
    untouched = sysv.semctl_get(semid, sysv.GETPID, 0)
    child_pid = spawn.run(_semop_and_pid, semid, [(1, +1, 0)], name="semop caller", timeout=2).unwrap()
    after_child = sysv.semctl_get(semid, sysv.GETPID, 1)
    assert (untouched, after_child) == (0, child_pid), (
        f"expected GETPID 0 on an untouched semaphore and {child_pid} (the child) after its semop, "
        f"got {untouched} and {after_child}")
    sysv.semop(semid, [(1, -1, 0)])
    mine = sysv.semctl_get(semid, sysv.GETPID, 1)
    assert mine == os.getpid(), f"expected GETPID {os.getpid()} (this process) after its semop, got {mine}"
    spawn.run(_semop_and_pid, semid, [(0, +1, 0), (1, +1, 0)], name="semop caller", timeout=2).unwrap()
    sysv.semset_value(semid, 0, num=0)
    sysv.semctl_setall(semid, [0, 0])
    after_set = [sysv.semctl_get(semid, sysv.GETPID, num) for num in (0, 1)]
    observe("GETPID is the SETVAL/SETALL caller", [pid == os.getpid() for pid in after_set])
    setall_sets = kernel.at_least(4, 6)
    assert after_set[0] == os.getpid(), f"expected SETVAL to set GETPID to {os.getpid()}, got {after_set[0]}"
    assert (after_set[1] == os.getpid()) == setall_sets, (
        f"expected SETALL to {'set' if setall_sets else 'leave'} GETPID of semaphore 1 "
        f"({'since' if setall_sets else 'before'} Linux 4.6), got {after_set[1]} (this process "
        f"is {os.getpid()})")


@pytest.mark.claim("sysvsem.ctl")
def test_ncnt_zcnt_count_sleepers(ipc, spawn, observe):
    """With two children asleep decrementing semaphore 0 and three waiting for semaphore 1 to be 0,
    GETNCNT(0) = 2, GETZCNT(1) = 3 and the other counts are 0; once they are woken, all are 0."""
    semid = ipc.sem(2)
    sysv.semset_value(semid, 1, num=1)
    sleepers = [sem.sleeping_in_semop(spawn, semid, [(0, -1, 0)], f"decrementer {i}") for i in (1, 2)]
    sleepers += [sem.sleeping_in_semop(spawn, semid, [(1, 0, 0)], f"zero waiter {i}") for i in (1, 2, 3)]
    asleep = {"sem0": sem.counts(semid, 0), "sem1": sem.counts(semid, 1)}
    observe("(GETNCNT, GETZCNT) while asleep", asleep)
    assert asleep == {"sem0": (2, 0), "sem1": (0, 3)}, (
        "expected (GETNCNT, GETZCNT) (2, 0) on semaphore 0 and (0, 3) on semaphore 1 with 2 "
        f"decrementers and 3 zero waiters proved asleep, kernel gave {asleep}")
    sysv.semctl_setall(semid, [2, 0])
    for child in sleepers:
        sem.woke(child, child.name)
    after = {"sem0": sem.counts(semid, 0), "sem1": sem.counts(semid, 1)}
    assert after == {"sem0": (0, 0), "sem1": (0, 0)}, (
        f"expected no count left once all woke, kernel gave {after}")


@pytest.mark.claim("sysvsem.ctl")
def test_array_sleeper_counted_once(ipc, spawn, observe, kernel):
    """A child asleep in semop([0:-1, 1:-1]) on values [1, 0] is counted by GETNCNT on semaphore 1,
    the first operation that cannot proceed, and (since Linux 3.16) not on semaphore 0."""
    semid = ipc.sem(2)
    sysv.semctl_setall(semid, [1, 0])
    child = sem.sleeping_in_semop(spawn, semid, [(0, -1, 0), (1, -1, 0)], "semop([0:-1, 1:-1])")
    ncnt = [sysv.semctl_get(semid, sysv.GETNCNT, num) for num in (0, 1)]
    observe("GETNCNT of an array sleeper", ncnt)
    expected = [0, 1] if kernel.at_least(3, 16) else [1, 1]
    assert ncnt == expected, (
        f"expected GETNCNT {expected} for one sleeper blocked on semaphore 1 (Linux "
        f"{kernel.release}), kernel gave {ncnt}")
    sysv.semop(semid, [(1, +1, 0)])
    sem.woke(child, "the array sleeper")
