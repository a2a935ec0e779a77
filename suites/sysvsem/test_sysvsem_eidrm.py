"""sysvsem.eidrm: every process asleep in semop on a set (waiting to decrement, or for zero) fails
with EIDRM when the set is removed."""
import errno

import pytest

import sysvsem_helpers as sem
from fixtures import libc, sysv

WAITERS = {  # semaphore 0 at 0, semaphore 1 at 1
    "decrement": [(0, -1, 0)],
    "wait_for_zero": [(1, 0, 0)],
    "array": [(1, 0, 0), (0, -1, 0)],
}


@pytest.mark.claim("sysvsem.eidrm")
def test_rmid_wakes_every_waiter_with_eidrm(ipc, spawn, observe):
    """Three children asleep in semop (a decrement, a wait for zero, an array of both) all fail with
    EIDRM when the parent removes the set."""
    semid = ipc.sem(2)
    sysv.semctl_setall(semid, [0, 1])
    waiters = {name: sem.sleeping_in_semop(spawn, semid, ops, f"{name} semop {sysv.describe_sops(ops)}")
               for name, ops in WAITERS.items()}
    sysv.rmid("sem", semid)
    results = {name: child.result(timeout=2) for name, child in waiters.items()}
    observe("errno", {name: libc.errno_name(r.errno) for name, r in results.items()})
    wrong = {name: str(r) for name, r in results.items() if r.errno != errno.EIDRM}
    assert not wrong, f"expected every sleeping semop to fail with EIDRM after IPC_RMID; {wrong}"
