"""sysv.perm.init, sysv.perm.enforced: ipc_perm of a new object, and its bits enforced against other users."""
import errno
import os

import pytest

import sysv_helpers as sv
from fixtures import libc, sysv


def _perm(kind, ident):
    p = sysv.stat(kind, ident).perm
    return {"uid": p.uid, "cuid": p.cuid, "gid": p.gid, "cgid": p.cgid, "mode": p.mode & 0o777,
            "mode_raw": p.mode}


@pytest.mark.claim("sysv.perm.init")
@pytest.mark.parametrize("kind", sysv.KINDS)
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o400], ids=["0640", "0604", "0400"])
def test_new_object_perm(ipc, observe, kind, mode):
    """uid/cuid and gid/cgid are our effective ids; mode keeps the 9 permission bits of the flag, not IPC_CREAT/IPC_EXCL."""
    ident = sv.make(ipc, kind, key=ipc.key(), mode=mode)  # flag = IPC_CREAT|IPC_EXCL|mode
    perm = _perm(kind, ident)
    observe("mode", oct(perm["mode_raw"]))
    want = {"uid": os.geteuid(), "cuid": os.geteuid(), "gid": os.getegid(), "cgid": os.getegid(),
            "mode": mode, "mode_raw": mode}
    assert perm == want, f"expected ipc_perm {want}, IPC_STAT says {perm}"


def _create_with_other_euid(kind, key, uid, gid, report):
    os.setgroups([])
    os.setresgid(os.getgid(), gid, os.getgid())  # real ids stay ours, effective ids switch
    os.setresuid(os.getuid(), uid, os.getuid())
    ident = sv.get(kind, key, libc.IPC_CREAT | libc.IPC_EXCL | 0o640)
    report.send(ident)
    return {"ruid": os.getuid(), "euid": os.geteuid(), "rgid": os.getgid(), "egid": os.getegid(),
            "perm": _perm(kind, ident)}


@pytest.mark.claim("sysv.perm.init")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_effective_not_real_ids(ipc, spawn, channel, privilege, observe, kind):
    """A creator whose effective ids differ from its real ids gets the effective ones in uid/cuid/gid/cgid."""
    privilege.require_switch()
    privilege.require("CAP_SYS_ADMIN", "to remove an object created under another effective uid")
    uid, gid = privilege.second_user
    key, report = ipc.key(), channel()
    child = spawn(_create_with_other_euid, kind, key, uid, gid, report, name="creator with euid != ruid")
    ipc.adopt_sysv(sv.JOURNAL_KIND[kind], report.recv(what="the creator"), key)
    seen = child.value(timeout=5)
    perm = seen.pop("perm")
    observe("creator_ids", seen)
    want = {"uid": seen["euid"], "cuid": seen["euid"], "gid": seen["egid"], "cgid": seen["egid"]}
    got = {k: perm[k] for k in want}
    assert got == want and seen["ruid"] != seen["euid"], (
        f"expected the effective ids {want} in ipc_perm (real uid {seen['ruid']}), IPC_STAT says {got}")


def _access_as_other(kind, key, ident):
    out = {}
    for name, call in (("get_read", lambda: sv.get(kind, key, 0o400, size=0, nsems=0)),
                       ("ipc_stat", lambda: sysv.stat(kind, ident)),
                       ("get_write", lambda: sv.get(kind, key, 0o200, size=0, nsems=0))):
        try:
            call()
            out[name] = "ok"
        except OSError as exc:
            out[name] = errno.errorcode.get(exc.errno, exc.errno)
    return out


@pytest.mark.claim("sysv.perm.enforced")
@pytest.mark.parametrize("kind", sysv.KINDS)
@pytest.mark.parametrize("mode, readable, writable", [
    (0o600, "EACCES", "EACCES"), (0o604, "ok", "EACCES"), (0o606, "ok", "ok")],
    ids=["0600", "0604", "0606"])
def test_other_user_access(ipc, privilege, observe, kind, mode, readable, writable):
    """Another, unprivileged user is granted read and write by the 'other' bits alone: EACCES for
    a request the mode does not give (read at 0600, write at 0604), success where it does."""
    key = ipc.key()
    ident = sv.make(ipc, kind, key=key, mode=mode)
    seen = privilege.run_as(_access_as_other, kind, key, ident).unwrap()
    observe("other_user", seen)
    want = {"get_read": readable, "ipc_stat": readable, "get_write": writable}
    assert seen == want, (f"expected another user's read get, IPC_STAT and write get on a "
                          f"{oct(mode)} {kind} object to give {want}, kernel gave {seen}")
