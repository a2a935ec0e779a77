"""sysvsem.init: semget creates a set of nsems semaphores with sem_otime = 0, sem_ctime = now and,
on Linux, every value 0.
sysvsem.init_race: creating (semget) and initialising (semctl) are two steps; sem_otime stays 0
through the initialisation and becomes the time of the first semop, which is how a second process
tells an initialised set from one not yet initialised."""
import time

import pytest

from fixtures import sysv

NSEMS = 4
CREATE = {"key": None, "private": 0}  # ipc.sem(key=None): a key of the run's range; 0: IPC_PRIVATE


@pytest.mark.claim("sysvsem.init")
@pytest.mark.parametrize("how", CREATE)
def test_new_set(ipc, observe, how):
    """A new set has sem_nsems = nsems, sem_otime = 0, sem_ctime between the times before and after
    semget, and every semaphore at 0."""
    before = int(time.time())
    semid = ipc.sem(NSEMS, key=CREATE[how])
    after = time.time()
    ds = sysv.stat("sem", semid)
    values = sysv.semctl_getall(semid, NSEMS)
    observe("sem_nsems", ds.nsems)
    observe("sem_otime", ds.otime)
    observe("values", values)
    assert (ds.nsems, ds.otime) == (NSEMS, 0), (
        f"expected sem_nsems {NSEMS} and sem_otime 0 after semget, kernel gave sem_nsems "
        f"{ds.nsems}, sem_otime {ds.otime}")
    assert before <= ds.ctime <= after + 1, (
        f"expected sem_ctime the time of semget ({before}..{int(after)}), kernel gave {ds.ctime}")
    assert values == [0] * NSEMS, f"expected Linux to start every value at 0, GETALL gave {values}"


@pytest.mark.claim("sysvsem.init_race")
def test_otime_marks_first_semop(ipc, observe):
    """sem_otime is 0 after semget, still 0 after SETVAL and SETALL (which set sem_ctime), and the
    time of the call after the first semop."""
    semid = ipc.sem(2)
    seen = {"semget": sysv.stat("sem", semid).otime}
    sysv.semset_value(semid, 1, num=0)
    seen["SETVAL"] = sysv.stat("sem", semid).otime
    sysv.semctl_setall(semid, [1, 1])
    seen["SETALL"] = sysv.stat("sem", semid).otime
    observe("sem_otime before any semop", seen)
    assert seen == {"semget": 0, "SETVAL": 0, "SETALL": 0}, (
        f"expected sem_otime 0 until the first semop (semget, then semctl SETVAL/SETALL), kernel "
        f"gave {seen}")
    before = int(time.time())
    sysv.semop(semid, [(0, -1, 0)])
    after = time.time()
    otime = sysv.stat("sem", semid).otime
    observe("sem_otime set by the first semop", otime != 0)
    assert before <= otime <= after + 1, (
        f"expected the first semop to set sem_otime to its time ({before}..{int(after)}), kernel "
        f"gave {otime}")
