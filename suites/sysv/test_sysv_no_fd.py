"""sysv.no_fd: System V objects have no file descriptor and their identifiers cannot be polled."""
import os

import pytest

import sysv_helpers as sv
from fixtures import libc, sysv


def _open_fds():
    return {int(fd): os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
            if os.path.exists(f"/proc/self/fd/{fd}")}


def _create_and_look(kind, key):
    before = _open_fds()
    ident = sv.get(kind, key, libc.IPC_CREAT | libc.IPC_EXCL | 0o600)
    if kind == "shm":  # attached and used, a segment is a mapping (/SYSV<key>), still no descriptor
        sysv.shm_write(ident, b"x")
    after = _open_fds()
    return {"id": ident, "new_fds": sorted(set(after) - set(before)),
            "changed": sorted(fd for fd in before if after.get(fd) != before[fd])}


@pytest.mark.claim("sysv.no_fd")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_no_descriptor(ipc, spawn, observe, kind):
    """Creating an object (and, for a segment, attaching and writing it) leaves the descriptor
    table unchanged: the object is reached by its id, which is no descriptor."""
    key = ipc.key()
    result = spawn.run(_create_and_look, kind, key, name="creator")  # a quiet process: no other fds come and go
    try:
        ipc.adopt_sysv(sv.JOURNAL_KIND[kind], sv.get(kind, key, 0), key)
    except OSError:
        pass  # not created: the child's error below says why
    seen = result.unwrap()
    observe("id", seen["id"], run_specific=True)
    observe("new_fds", seen["new_fds"])
    assert not seen["new_fds"] and not seen["changed"], (
        f"expected {kind}get to open no file descriptor, new fds {seen['new_fds']}, changed {seen['changed']}")
