"""sysvsem.limits: /proc/sys/kernel/sem gives semmsl, semmns, semopm and semmni, the same as
semctl IPC_INFO and SEM_INFO; a value above SEMVMX (32767) fails with ERANGE, in SETVAL, SETALL
and semop alike; more than semmsl semaphores in a set fail with EINVAL and more than semopm
operations in one semop with E2BIG."""
import errno

import pytest

from fixtures import libc, sysv
from fixtures.expect import fails_with

FIELDS = ("semmsl", "semmns", "semopm", "semmni")
MAX_ARRAY = 1 << 22  # semopm operations are allocated here: beyond this the case is not run


def info(cmd: int = libc.IPC_INFO):
    """struct seminfo as semctl(0, cmd) reports it (IPC_INFO or SEM_INFO)."""
    seminfo = sysv.SemInfo()
    sysv.ctl("sem", 0, cmd, seminfo)
    return seminfo


@pytest.mark.claim("sysvsem.limits")
@pytest.mark.parametrize("cmd", [libc.IPC_INFO, sysv.SEM_INFO], ids=["IPC_INFO", "SEM_INFO"])
def test_proc_matches_info(kernel, observe, cmd):
    """semmsl, semmns, semopm and semmni of /proc/sys/kernel/sem are what semctl(IPC_INFO) and
    semctl(SEM_INFO) report, and semvmx is 32767."""
    text = kernel.sysctl("kernel/sem")
    assert text is not None, "expected /proc/sys/kernel/sem to be readable, it is not"
    limits = dict(zip(FIELDS, map(int, text.split())))
    seminfo = info(cmd)
    reported = {name: getattr(seminfo, name) for name in FIELDS}
    for name, value in limits.items():
        observe(name, value)
    observe("semvmx", seminfo.semvmx)
    assert reported == limits, f"expected {limits} (/proc/sys/kernel/sem), semctl reported {reported}"
    assert seminfo.semvmx == sysv.SEMVMX, f"expected semvmx {sysv.SEMVMX}, semctl reported {seminfo.semvmx}"


SETTERS = {
    "SETVAL_32768": lambda semid: sysv.semset_value(semid, sysv.SEMVMX + 1),
    "SETVAL_minus1": lambda semid: sysv.semset_value(semid, -1),
    "SETALL_32768": lambda semid: sysv.semctl_setall(semid, [sysv.SEMVMX + 1]),
    "semop_past_32767": lambda semid: sysv.semop(semid, [(0, +1, 0)]),
}


@pytest.mark.claim("sysvsem.limits")
@pytest.mark.parametrize("way", SETTERS)
def test_above_semvmx_erange(ipc, observe, way):
    """Setting a semaphore above SEMVMX (or below 0), or a semop that would take it past SEMVMX,
    fails with ERANGE and leaves the value as it was."""
    semid = ipc.sem(1)
    sysv.semset_value(semid, sysv.SEMVMX)
    err = fails_with(errno.ERANGE, SETTERS[way], semid,
                     what=way.replace("_", " ") + " on a semaphore at 32767")
    observe("errno", libc.errno_name(err.errno))
    value = sysv.semget_value(semid)
    assert value == sysv.SEMVMX, (
        f"expected the refused {way} to leave the value at {sysv.SEMVMX}, it is {value}")


@pytest.mark.claim("sysvsem.limits")
def test_nsems_above_semmsl_einval(ipc, observe, partial):
    """semget with semmsl semaphores creates the set, with semmsl + 1 it fails with EINVAL."""
    semmsl = info().semmsl
    if semmsl >= 2 ** 31 - 1:
        partial("semmsl + 1", f"semmsl is {semmsl}: no int is larger")
        return
    key = ipc.key()

    def create(nsems):
        ipc.adopt_sysv("sysv_sem", libc.semget(key, nsems, libc.IPC_CREAT | libc.IPC_EXCL | 0o600), key)

    err = fails_with(errno.EINVAL, create, semmsl + 1, what=f"semget(nsems={semmsl + 1} = semmsl + 1)")
    observe("errno for nsems = semmsl + 1", libc.errno_name(err.errno))
    try:
        create(semmsl)  # the limit itself is allowed (the set is removed at teardown)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        partial("semmsl semaphores", f"{exc.call}: ENOSPC, semmns leaves no room for the set")


@pytest.mark.claim("sysvsem.limits")
def test_nsops_above_semopm_e2big(ipc, observe, partial):
    """semop with semopm operations proceeds, with semopm + 1 it fails with E2BIG and applies none."""
    semopm = info().semopm
    if semopm + 1 > MAX_ARRAY:
        partial("semopm + 1 operations", f"semopm is {semopm}: an array that large is not built")
        return
    semid = ipc.sem(1)
    sysv.semop(semid, [(0, +1, 0)] * semopm)
    err = fails_with(errno.E2BIG, sysv.semop, semid, [(0, +1, 0)] * (semopm + 1),
                     what=f"semop with nsops={semopm + 1} = semopm + 1")
    observe("errno for nsops = semopm + 1", libc.errno_name(err.errno))
    value = sysv.semget_value(semid)
    assert value == semopm, (
        f"expected only the {semopm} operations of the first call applied, value is {value}")
