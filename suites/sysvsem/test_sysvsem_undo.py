"""sysvsem.undo: the adjustments of a process's SEM_UNDO operations are reversed when it exits,
whether it returns normally or is killed by SIGKILL."""
import signal

import pytest

from fixtures import sysv

START = 3


def _undoable_then_end(semid, sem_op, how, report):
    sysv.semop(semid, [(0, sem_op, sysv.SEM_UNDO)])
    report.send(sysv.semget_value(semid))
    if how == "SIGKILL":
        sysv.semop(semid, [(1, -1, 0)])  # sleeps (semaphore 1 is 0) until the parent kills it
    return "exiting"


@pytest.mark.claim("sysvsem.undo")
@pytest.mark.parametrize("how", ["exit", "SIGKILL"])
@pytest.mark.parametrize("sem_op", [+2, -1], ids=["plus2", "minus1"])
def test_undo_reversed_at_exit(ipc, spawn, channel, observe, sem_op, how):
    """A child's semop with SEM_UNDO changes the value while it lives; when it exits (or is killed),
    the kernel takes the adjustment back and the value is what it was before."""
    semid = ipc.sem(2)
    sysv.semset_value(semid, START)
    report = channel()
    child = spawn(_undoable_then_end, semid, sem_op, how, report, name=f"SEM_UNDO {sem_op:+d} then {how}")
    during = report.recv(timeout=2, what="the SEM_UNDO child")
    assert during == START + sem_op, (
        f"expected semop({sem_op:+d}, SEM_UNDO) to take the value to {START + sem_op}, it is {during}")
    if how == "SIGKILL":
        child.wait_blocked("semop", what="the SEM_UNDO child")
        child.signal(signal.SIGKILL)
    result = child.result(timeout=2)
    observe("child", str(result))
    ended = {"exit": result.value == "exiting", "SIGKILL": result.signal == signal.SIGKILL}[how]
    assert ended, f"expected the child to end by {how}, the child {result}"
    after = sysv.semget_value(semid)
    observe("value after the child ended", after)
    assert after == START, (
        f"expected the {how} to undo semop({sem_op:+d}, SEM_UNDO) and bring the value back to "
        f"{START}, it is {after}")
