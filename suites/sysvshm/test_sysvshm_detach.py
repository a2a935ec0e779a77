"""sysvshm.detach: shmdt detaches without removing the segment; shm_nattch counts the attaches
(two by one process count twice); a process that ends while attached is detached by the kernel.
Where kernel.shm_rmid_forced is 1 the segment is destroyed once nothing is attached (Linux)."""
import os
import signal

import pytest

import sysvshm_helpers as shm
from fixtures import sysv

SIZE = 4096
MARK = b"kept after detach"


@pytest.mark.claim("sysvshm.detach")
def test_nattch_counts_attaches(ipc, observe, survives):
    """Two attaches by this process give nattch 2, each shmdt takes one away and records this
    process in shm_lpid; after the last the segment and its bytes are still there."""
    shmid = ipc.shm(SIZE)
    first = sysv.shmat(shmid)
    seen = []
    try:
        shm.write(first, MARK)
        with shm.attached(shmid) as second:
            seen.append(shm.fields(shmid)["nattch"])
            assert shm.read(second, len(MARK)) == MARK, (
                "expected the second attachment to show the same bytes")
        seen.append(shm.fields(shmid)["nattch"])
    finally:
        sysv.shmdt(first)
    observe("nattch after 2 attaches, then after each shmdt", seen)
    assert seen == [2, 1], f"expected nattch 2 with two attaches and 1 after one shmdt, kernel gave {seen}"
    if survives(shmid, "after the last shmdt"):
        got = shm.fields(shmid)
        assert (got["nattch"], got["lpid"]) == (0, os.getpid()), (
            f"expected nattch 0 and shm_lpid {os.getpid()} (this process) after the last shmdt, "
            f"kernel gave {got['nattch']} and {got['lpid']}")
        assert sysv.shm_read(shmid, len(MARK)) == MARK, "expected the bytes kept after the last shmdt"


def _attach_and_end(shmid, how, report):
    addr = sysv.shmat(shmid)
    shm.write(addr, MARK)
    report.send(os.getpid())
    if how == "SIGKILL":
        os.kill(os.getpid(), signal.SIGKILL)
    return "exiting attached"  # no shmdt: the exit detaches


@pytest.mark.claim("sysvshm.detach")
@pytest.mark.parametrize("how", ["exit", "SIGKILL"])
def test_exit_detaches(ipc, spawn, channel, observe, survives, how):
    """A child that attaches and ends without shmdt (exit, or SIGKILL) leaves nattch 0 and its pid
    in shm_lpid; the segment itself stays (unless kernel.shm_rmid_forced=1)."""
    shmid = ipc.shm(SIZE)
    report = channel()
    child = spawn(_attach_and_end, shmid, how, report, name=f"attached child ending by {how}")
    pid = report.recv(timeout=2, what="the attached child")
    result = child.result(timeout=2)
    observe("child", str(result))
    if survives(shmid, f"after the attached child's {how}"):
        got = shm.fields(shmid)
        observe("nattch after the child ended", got["nattch"])
        assert (got["nattch"], got["lpid"]) == (0, pid), (
            f"expected the {how} to detach the child: nattch 0 and shm_lpid {pid}, kernel gave "
            f"nattch {got['nattch']} and shm_lpid {got['lpid']}")
