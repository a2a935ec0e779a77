"""sysvshm.rmid: IPC_RMID destroys an unattached segment at once; an attached one is only marked
(SHM_DEST in shm_perm.mode, its key becomes IPC_PRIVATE), stays usable, and is destroyed at the last
detach. Linux still lets a process attach a segment so marked. kernel.shm_rmid_forced=1 makes
the kernel destroy a segment whose creator has exited once the last process detaches."""
import errno

import pytest

import sysvshm_helpers as shm
from fixtures import libc, sysv
from fixtures.expect import fails_with

SIZE = 4096
MARK = b"still here"
CREATE = libc.IPC_CREAT | libc.IPC_EXCL | 0o600


@pytest.mark.claim("sysvshm.rmid")
def test_unattached_destroyed_at_once(ipc, observe):
    """IPC_RMID of a segment nobody attached destroys it: IPC_STAT and shmat then fail with EINVAL."""
    shmid = ipc.shm(SIZE)
    sysv.rmid("shm", shmid)
    err = fails_with(shm.GONE, sysv.stat, "shm", shmid,
                     what="IPC_STAT after IPC_RMID of an unattached segment")
    observe("errno of IPC_STAT", libc.errno_name(err.errno))
    err = fails_with(errno.EINVAL, sysv.shmat, shmid, what="shmat after IPC_RMID of an unattached segment")
    observe("errno of shmat", libc.errno_name(err.errno))


@pytest.mark.claim("sysvshm.rmid")
def test_attached_survives_until_last_detach(ipc, observe):
    """After IPC_RMID while attached the segment keeps its bytes, shows SHM_DEST and key IPC_PRIVATE
    (shmget IPC_CREAT|IPC_EXCL of the old key makes a new segment), can still be attached again
    (Linux), and is gone once both attachments are detached."""
    key = ipc.key()
    shmid = ipc.shm(SIZE, key=key)
    first = sysv.shmat(shmid)
    try:
        shm.write(first, MARK)
        sysv.rmid("shm", shmid)
        marked = shm.fields(shmid)
        observe("SHM_DEST set", bool(marked["mode"] & sysv.SHM_DEST))
        observe("key after IPC_RMID", marked["key"])
        assert (bool(marked["mode"] & sysv.SHM_DEST), marked["key"], marked["nattch"]) == (True, 0, 1), (
            f"expected IPC_RMID while attached to leave the segment with SHM_DEST in its mode, key "
            f"IPC_PRIVATE (0) and nattch 1; kernel gave mode {marked['mode']:#o}, key "
            f"{marked['key']:#x}, nattch {marked['nattch']}")
        # The key is free again: IPC_CREAT|IPC_EXCL makes a new segment under it.
        reused = ipc.adopt_sysv("sysv_shm", libc.shmget(key, SIZE, CREATE), key)
        observe("old key makes a new segment", reused != shmid)
        assert reused != shmid, (
            f"expected a new segment under the freed key, shmget returned the marked id {shmid}")
        with shm.attached(shmid) as second:  # Linux-specific: attaching a marked segment
            again = shm.read(second, len(MARK))
            nattch = shm.fields(shmid)["nattch"]
        assert (again, nattch) == (MARK, 2), (
            f"expected a new attach of the marked segment to see {MARK!r} with nattch 2, it saw "
            f"{again!r} with nattch {nattch}")
        still = shm.read(first, len(MARK))
    finally:
        sysv.shmdt(first)
    assert still == MARK, f"expected the marked segment to keep {MARK!r}, it holds {still!r}"
    present = shm.exists(shmid)
    observe("exists after the last detach", present)
    assert not present, "expected the marked segment destroyed at the last detach, IPC_STAT still finds it"


def _create_attach_exit(key, report, go):
    shmid = libc.shmget(key, SIZE, CREATE)
    sysv.shmat(shmid)
    report.send(shmid)
    go.recv(timeout=2, what="the parent")
    return "creator exiting attached"


@pytest.mark.claim("sysvshm.rmid")
def test_rmid_forced_orphan(ipc, spawn, channel, observe, survives):
    """A segment whose creator exits while another process is attached is, with kernel.shm_rmid_forced=1,
    destroyed when that process detaches; with 0 it stays (no IPC_RMID was called)."""
    key = ipc.key()
    report, go = channel(), channel()
    creator = spawn(_create_attach_exit, key, report, go, name="creator")
    shmid = ipc.adopt_sysv("sysv_shm", report.recv(timeout=2, what="the creator"), key)
    with shm.attached(shmid):
        go.send("exit")
        creator.value(timeout=2)
        nattch = shm.fields(shmid)["nattch"]
    observe("nattch after the creator exited", nattch)
    assert nattch == 1, (
        f"expected nattch 1 (this process) after the attached creator exited, kernel gave {nattch}")
    present = survives(shmid, "at the last detach after the creator exited")
    if present:
        got = shm.fields(shmid)
        assert not got["mode"] & sysv.SHM_DEST, (
            f"expected no SHM_DEST without IPC_RMID, mode is {got['mode']:#o}")
        observe("cpid is the exited creator", got["cpid"] == creator.pid)
