"""sysvshm.init: a new segment has shm_segsz = the size asked for, shm_cpid = the creating process,
shm_lpid = 0, shm_nattch = 0, shm_atime = shm_dtime = 0 and shm_ctime = the time of creation."""
import os
import time

import pytest

import sysvshm_helpers as shm
from fixtures import libc


def _create_and_wait(key, size, report, go):
    report.send((libc.shmget(key, size, libc.IPC_CREAT | libc.IPC_EXCL | 0o600), os.getpid()))
    go.recv(timeout=2, what="the parent")  # alive while the parent reads: with
    # kernel.shm_rmid_forced=1 a never-attached segment dies with its creator


@pytest.mark.claim("sysvshm.init")
@pytest.mark.parametrize("creator", ["this process", "a child"])
def test_new_segment(ipc, spawn, channel, kernel, observe, creator):
    """shmget of page size + 123 bytes: every field as documented, cpid the process that called
    shmget (also when another process reads it)."""
    size = kernel.page_size + 123  # not a page multiple: shm_segsz is the size asked, not rounded
    key = ipc.key()
    before = int(time.time())
    if creator == "a child":
        report, go = channel(), channel()
        child = spawn(_create_and_wait, key, size, report, go, name="creator")
        shmid, pid = report.recv(timeout=2, what="the creator")
        ipc.adopt_sysv("sysv_shm", shmid, key)
    else:
        shmid, pid = ipc.shm(size, key=key), os.getpid()
    after = time.time()
    got = shm.fields(shmid)
    if creator == "a child":
        go.send("done")
        child.value(timeout=2)
    observe("shm_segsz", got["segsz"])
    observe("cpid is the creator", got["cpid"] == pid)
    expected = {"segsz": size, "cpid": pid, "lpid": 0, "nattch": 0, "atime": 0, "dtime": 0}
    seen = {k: got[k] for k in expected}
    assert seen == expected, f"expected {expected} for a new segment made by {creator}, kernel gave {seen}"
    assert before <= got["ctime"] <= after + 1, (
        f"expected shm_ctime the time of shmget ({before}..{int(after)}), kernel gave {got['ctime']}")
