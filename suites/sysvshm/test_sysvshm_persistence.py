"""sysvshm.persistence: a segment outlives the process that created it: after the creator has
exited it is still there with its bytes and shm_cpid naming the dead creator. Where
kernel.shm_rmid_forced is 1 Linux destroys it instead once nothing is attached."""
import os

import pytest

import sysvshm_helpers as shm
from fixtures import libc, sysv

SIZE = 4096
MARK = b"written by the creator"


def _create_write_exit(key, detach, report):
    shmid = libc.shmget(key, SIZE, libc.IPC_CREAT | libc.IPC_EXCL | 0o600)
    report.send(shmid)
    addr = sysv.shmat(shmid)
    shm.write(addr, MARK)
    if detach:
        sysv.shmdt(addr)
    return os.getpid()


@pytest.mark.claim("sysvshm.persistence")
@pytest.mark.parametrize("detach", [True, False], ids=["detached_before_exit", "attached_at_exit"])
def test_segment_outlives_creator(ipc, spawn, channel, observe, survives, detach):
    """A child creates a segment, writes into it and exits (detached first, or still attached); the
    segment is then still there, unattached, with the bytes and the child's pid as shm_cpid."""
    key = ipc.key()
    report = channel()
    child = spawn(_create_write_exit, key, detach, report, name="creator")
    shmid = ipc.adopt_sysv("sysv_shm", report.recv(timeout=2, what="the creator"), key)
    pid = child.value(timeout=2)
    if survives(shmid, "after the creator exited"):
        got = shm.fields(shmid)
        data = sysv.shm_read(shmid, len(MARK))
        assert (got["cpid"], got["nattch"], data) == (pid, 0, MARK), (
            f"expected shm_cpid {pid} (the dead creator), nattch 0 and {MARK!r} in the segment, "
            f"kernel gave cpid {got['cpid']}, nattch {got['nattch']}, {data!r}")
