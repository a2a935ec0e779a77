"""sysv.ipc_set: IPC_SET changes uid, gid, mode (and msg_qbytes) and ctime; others get EPERM."""
import errno
import os
import time

import pytest

import sysv_helpers as sv
from fixtures import sysv
from fixtures.expect import fails_with, succeeds
from fixtures.procs import poll_until


@pytest.mark.claim("sysv.ipc_set")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_owner_changes_uid_gid_mode(ipc, privilege, observe, kind):
    """The owner gives the object to another uid/gid with a new mode (cuid/cgid stay ours); as creator we may still change it."""
    ident = sv.make(ipc, kind, mode=0o600)
    uid, gid = privilege.second_user
    ds = sysv.stat(kind, ident)
    ds.perm.uid, ds.perm.gid, ds.perm.mode = uid, gid, 0o640
    succeeds(sysv.ipc_set, kind, ident, ds, what=f"IPC_SET on our {kind} object")
    p = sysv.stat(kind, ident).perm
    got = {"uid": p.uid, "gid": p.gid, "mode": p.mode & 0o777, "cuid": p.cuid, "cgid": p.cgid}
    want = {"uid": uid, "gid": gid, "mode": 0o640, "cuid": os.geteuid(), "cgid": os.getegid()}
    observe("after", dict(got, mode=oct(got["mode"])))
    assert got == want, f"expected IPC_SET to leave ipc_perm {want}, IPC_STAT says {got}"
    # No longer the owner, still the creator: that is enough for IPC_SET (and, unprivileged,
    # it is the only right we have left).
    ds = sysv.stat(kind, ident)
    ds.perm.mode = 0o600
    succeeds(sysv.ipc_set, kind, ident, ds, what=f"IPC_SET by the creator of a {kind} object owned by uid {uid}")
    mode = sysv.stat(kind, ident).perm.mode & 0o777
    assert mode == 0o600, f"expected the creator's IPC_SET to set mode 0600, IPC_STAT says {oct(mode)}"


@pytest.mark.claim("sysv.ipc_set")
def test_msg_qbytes(ipc, kernel, privilege, observe):
    """msg_qbytes can be lowered by the owner; raising it above msgmnb needs CAP_SYS_RESOURCE (EPERM without)."""
    ident = ipc.msgq()
    msgmnb = kernel.limit("kernel/msgmnb")
    ds = sysv.stat("msg", ident)
    observe("initial_qbytes", ds.qbytes)
    ds.qbytes = msgmnb // 2
    sysv.ipc_set("msg", ident, ds)
    lowered = sysv.stat("msg", ident).qbytes
    assert lowered == msgmnb // 2, f"expected msg_qbytes {msgmnb // 2} after IPC_SET, IPC_STAT says {lowered}"
    ds = sysv.stat("msg", ident)
    ds.qbytes = msgmnb + 1
    if privilege.has("CAP_SYS_RESOURCE"):
        succeeds(sysv.ipc_set, "msg", ident, ds, what="IPC_SET msg_qbytes above msgmnb with CAP_SYS_RESOURCE")
        observe("raise_above_msgmnb", "ok")
    else:
        err = fails_with(errno.EPERM, sysv.ipc_set, "msg", ident, ds,
                         what="IPC_SET msg_qbytes above msgmnb without CAP_SYS_RESOURCE")
        observe("raise_above_msgmnb", errno.errorcode[err.errno])


@pytest.mark.claim("sysv.ipc_set")
def test_ctime_updated(ipc, observe):
    """IPC_SET sets ctime to the current time (checked once the clock has moved past creation)."""
    objects = {kind: sv.make(ipc, kind) for kind in sysv.KINDS}
    created = {kind: sysv.stat(kind, ident).ctime for kind, ident in objects.items()}
    # ctime has one-second resolution: the claim can only be seen once the second has changed.
    # The kernel stamps it from its coarse clock, which may trail the vDSO clock by a tick,
    # hence the 50 ms past the boundary.
    assert poll_until(lambda: time.time() >= max(created.values()) + 1.05, 2.5), "the clock did not advance"
    for kind, ident in objects.items():
        ds = sysv.stat(kind, ident)
        ds.perm.mode = 0o640
        sysv.ipc_set(kind, ident, ds)
    now = int(time.time())
    after = {kind: sysv.stat(kind, ident).ctime for kind, ident in objects.items()}
    observe("ctime_created", created, run_specific=True)
    observe("ctime_after_set", after, run_specific=True)
    stale = {k: (created[k], after[k]) for k in objects if not created[k] < after[k] <= now}
    assert not stale, (f"expected IPC_SET to move ctime past creation to the current second ({now}), "
                       f"(created, after) = {stale}")


def _set_as_other(kind, ident):
    ds = sysv.stat(kind, ident)  # readable: the object is 0666
    ds.perm.mode = 0o600
    err = fails_with(errno.EPERM, sysv.ipc_set, kind, ident, ds,
                     what=f"IPC_SET by a user who is neither owner nor creator of the {kind} object")
    return errno.errorcode[err.errno]


@pytest.mark.claim("sysv.ipc_set")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_non_owner_eperm(ipc, privilege, observe, kind):
    """A second, unprivileged user gets EPERM from IPC_SET on our object, even with mode 0666, and nothing changes."""
    ident = sv.make(ipc, kind, mode=0o666)
    observe("errno", privilege.run_as(_set_as_other, kind, ident).unwrap())
    mode = sysv.stat(kind, ident).perm.mode & 0o777
    assert mode == 0o666, f"expected the refused IPC_SET to leave mode 0666, IPC_STAT says {oct(mode)}"
