"""sysv.ftok, sysv.private, sysv.creat: keys, IPC_PRIVATE and the IPC_CREAT/IPC_EXCL rules."""
import errno

import pytest

import sysv_helpers as sv
from fixtures import libc, sysv
from fixtures.expect import fails_with, succeeds


@pytest.mark.claim("sysv.ftok")
def test_ftok_keys(ipc, observe):
    """Same path and id give one key, other ids other keys, id 257 acts as id 1, none is IPC_PRIVATE."""
    path = ipc.path("ftok")
    open(path, "w").close()
    keys = {pid: libc.ftok(path, pid) for pid in (1, 2, 0xff, 257)}
    for pid, key in keys.items():
        observe(f"key_id{pid}", f"{key & 0xffffffff:#010x}", run_specific=True)
    assert libc.ftok(path, 1) == keys[1], "expected ftok to be deterministic for one path and id"
    assert len({keys[1], keys[2], keys[0xff]}) == 3, f"expected distinct keys for ids 1, 2, 255, got {keys}"
    assert keys[257] == keys[1], (f"expected only the low 8 bits of id to count (ftok(p, 257) == ftok(p, 1)), "
                                  f"got {keys[257]:#x} and {keys[1]:#x}")
    assert libc.IPC_PRIVATE not in keys.values(), f"expected no key to be IPC_PRIVATE (0), got {keys}"


@pytest.mark.claim("sysv.ftok")
def test_ftok_missing_path(ipc, observe):
    """ftok on a path that does not exist fails with ENOENT (it stats the file)."""
    err = fails_with(errno.ENOENT, libc.ftok, ipc.path("missing"), 1, what="ftok(missing path)")
    observe("errno", errno.errorcode[err.errno])


@pytest.mark.claim("sysv.private")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_private_always_new(ipc, observe, kind):
    """Two IPC_PRIVATE gets make two objects with different ids, both with key 0."""
    first = sv.make(ipc, kind, key=libc.IPC_PRIVATE)
    second = sv.make(ipc, kind, key=libc.IPC_PRIVATE)
    observe("ids", [first, second], run_specific=True)
    assert first != second, f"expected IPC_PRIVATE to create a new {kind} object, got id {first} twice"
    keys = [sysv.stat(kind, i).perm.key for i in (first, second)]
    assert keys == [0, 0], f"expected both objects to carry key IPC_PRIVATE (0), IPC_STAT says {keys}"


def _kind_get(kind, key, flags):
    # semget/shmget accept 0 for nsems/size when opening; creating needs a real size.
    return sv.get(kind, key, flags, size=4096, nsems=1)


@pytest.mark.claim("sysv.creat")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_creat_opens_existing(ipc, observe, kind):
    """IPC_CREAT without IPC_EXCL on an existing key returns that object's id."""
    key = ipc.key()
    ident = sv.make(ipc, kind, key=key)
    again = succeeds(_kind_get, kind, key, libc.IPC_CREAT | 0o600, what=f"{kind}get(existing, IPC_CREAT)")
    observe("id", ident, run_specific=True)
    assert again == ident, f"expected IPC_CREAT to open the existing {kind} object {ident}, got {again}"


@pytest.mark.claim("sysv.creat")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_creat_creates_missing(ipc, observe, kind):
    """IPC_CREAT alone on an unused key creates the object with that key."""
    key = ipc.key()
    ident = succeeds(_kind_get, kind, key, libc.IPC_CREAT | 0o600, what=f"{kind}get(unused key, IPC_CREAT)")
    ipc.adopt_sysv(sv.JOURNAL_KIND[kind], ident, key)
    got = sysv.stat(kind, ident).perm.key & 0xffffffff
    assert got == key, f"expected the new {kind} object to carry key {key:#x}, IPC_STAT says {got:#x}"


@pytest.mark.claim("sysv.creat")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_creat_excl_eexist(ipc, observe, kind):
    """IPC_CREAT|IPC_EXCL on a key in use fails with EEXIST."""
    key = ipc.key()
    sv.make(ipc, kind, key=key)
    err = fails_with(errno.EEXIST, _kind_get, kind, key, libc.IPC_CREAT | libc.IPC_EXCL | 0o600,
                     what=f"{kind}get(existing, IPC_CREAT|IPC_EXCL)")
    observe("errno", errno.errorcode[err.errno])


@pytest.mark.claim("sysv.creat")
@pytest.mark.parametrize("kind", sysv.KINDS)
def test_missing_without_creat_enoent(ipc, observe, kind):
    """Without IPC_CREAT, a key no object has fails with ENOENT."""
    key = ipc.key()  # never created: the run's own range, unused
    err = fails_with(errno.ENOENT, _kind_get, kind, key, 0o600, what=f"{kind}get(unused key, no IPC_CREAT)")
    observe("errno", errno.errorcode[err.errno])
