"""sysv.kernel_persistence: an object and its contents outlive the process that created it."""
import errno

import pytest

import sysv_helpers as sv
from fixtures import libc, sysv

PAYLOAD = b"outlives its creator"


def _create_and_fill(kind, key):
    ident = sv.get(kind, key, libc.IPC_CREAT | libc.IPC_EXCL | 0o600)
    if kind == "msg":
        libc.msgsnd(ident, 7, PAYLOAD)
    elif kind == "sem":
        sysv.semset_value(ident, 42)
    else:
        sysv.shm_write(ident, PAYLOAD)
    return ident  # and exit: nothing of ours holds the object any more


def _contents(kind, ident):
    if kind == "msg":
        return libc.msgrcv(ident, 64, 0, libc.IPC_NOWAIT)
    if kind == "sem":
        return sysv.semget_value(ident)
    return sysv.shm_read(ident, len(PAYLOAD))


EXPECTED = {"msg": (7, PAYLOAD), "sem": 42, "shm": PAYLOAD}


@pytest.mark.claim("sysv.kernel_persistence")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_outlives_creator(ipc, spawn, kernel, observe, kind):
    """After the creating process has exited and been reaped, the key still finds the object and its contents."""
    key = ipc.key()
    result = spawn.run(_create_and_fill, kind, key, name="creator")
    found, error = None, None
    try:
        found = sv.get(kind, key, 0)  # the object as the kernel keeps it, found by its key
        ipc.adopt_sysv(sv.JOURNAL_KIND[kind], found, key)
    except OSError as exc:
        error = errno.errorcode.get(exc.errno, exc.errno)
    ident = result.unwrap()
    observe("id", ident, run_specific=True)
    # kernel.shm_rmid_forced=1 tells the kernel to remove a segment nobody has attached
    # when its creator exits: there the segment must be gone.
    forced = kind == "shm" and kernel.limit("kernel/shm_rmid_forced") == 1
    if kind == "shm":
        observe("shm_rmid_forced", kernel.limit("kernel/shm_rmid_forced"))
    if forced:
        assert error == "ENOENT", (f"expected shm_rmid_forced=1 to remove the unattached segment with its "
                                   f"creator, shmget(key) gave {found if error is None else error}")
        return
    assert found == ident, (f"expected key {key:#x} to lead to the creator's {kind} object {ident} after "
                            f"the creator exited, {kind}get gave {found if error is None else error}")
    got = _contents(kind, ident)
    assert got == EXPECTED[kind], f"expected the {kind} contents {EXPECTED[kind]!r} to persist, found {got!r}"
