"""sysv.no_fd: System V objects have no file descriptor and their identifiers cannot be polled."""
import os
import select

import pytest

import sysv_helpers as sv
from fixtures import libc, sysv


def _open_fds():
    return {int(fd): os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
            if os.path.exists(f"/proc/self/fd/{fd}")}


def _create_and_look(kind, key):
    before = _open_fds()
    ident = sv.get(kind, key, libc.IPC_CREAT | libc.IPC_EXCL | 0o600)
    after = _open_fds()
    polled = None
    if ident not in after:
        poller = select.poll()
        poller.register(ident, select.POLLIN | select.POLLOUT)
        polled = poller.poll(0)
    return {"id": ident, "new_fds": sorted(set(after) - set(before)),
            "changed": sorted(fd for fd in before if after.get(fd) != before[fd]), "polled": polled}


@pytest.mark.claim("sysv.no_fd")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_no_descriptor(ipc, spawn, observe, kind):
    """Creating an object leaves the descriptor table unchanged; poll on the id (not an fd) reports POLLNVAL."""
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
    if seen["polled"] is not None:
        observe("poll_revents", [[fd, "POLLNVAL" if ev == select.POLLNVAL else ev] for fd, ev in seen["polled"]],
                run_specific=True)
        assert seen["polled"] == [(seen["id"], select.POLLNVAL)], (
            f"expected poll on id {seen['id']} to report POLLNVAL (not a descriptor), got {seen['polled']}")
