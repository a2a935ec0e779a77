"""What the sysvsem tests share beyond fixtures.sysv (semop, GETALL/SETALL, GETVAL/SETVAL):
the semop calls children make, and starting a child proved asleep in one of them.

The module name is unique because test directories are imported without packages.
"""
from __future__ import annotations

from fixtures import sysv


def semop_returns(semid: int, ops) -> str:
    """A child's body: one semop call with `ops`; it says so if the call came back."""
    sysv.semop(semid, ops)
    return "semop returned"


def sleeping_in_semop(spawn, semid: int, ops, what: str):
    """A child whose semop(ops) must sleep, proved asleep in that call (NeverBlocked if it is not)."""
    child = spawn(semop_returns, semid, ops, name=what)
    child.wait_blocked("semop", what=what)
    return child


def counts(semid: int, num: int) -> tuple[int, int]:
    """(GETNCNT, GETZCNT) of semaphore `num`."""
    return sysv.semctl_get(semid, sysv.GETNCNT, num), sysv.semctl_get(semid, sysv.GETZCNT, num)


def woke(child, what: str) -> str:
    """The sleeping child's semop came back after what the parent did (bounded: a kernel that does
    not wake it is a ChildTimeout, violated)."""
    result = child.result(timeout=2)
    assert result.value == "semop returned", f"expected {what} to return from semop, the child {result}"
    return str(result)
