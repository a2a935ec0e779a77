"""lock.excl_file: open(O_CREAT|O_EXCL) fails with EEXIST when the name exists, so creating a
file can serve as a lock between processes, released by unlink()."""
import errno
import os

import pytest

from fixtures.expect import fails_with
from fixtures.libc import errno_name

EXCL = os.O_CREAT | os.O_EXCL | os.O_WRONLY


def _take_file_lock(path):
    """In another process: take the lock by creating the file."""
    os.close(os.open(path, EXCL, 0o644))
    return "created"


def _make_existing(kind, path):
    if kind == "file":
        os.close(os.open(path, EXCL, 0o644))
    elif kind == "dangling-symlink":  # O_EXCL does not follow a final symbolic link
        os.symlink(path + "-nowhere", path)
    elif kind == "directory":
        os.mkdir(path)


@pytest.mark.claim("lock.excl_file")
@pytest.mark.parametrize("kind", ["file", "dangling-symlink", "directory"])
def test_exclusive_create_of_existing_name(kind, ipc, observe):
    """open(O_CREAT|O_EXCL) on an existing name fails with EEXIST and creates nothing."""
    path = ipc.path("lockfile")
    _make_existing(kind, path)
    refusal = fails_with(errno.EEXIST, os.open, path, EXCL, 0o644,
                         what=f"open(O_CREAT|O_EXCL) of an existing {kind}")
    observe("errno", errno_name(refusal.errno))
    if kind == "dangling-symlink":
        assert not os.path.exists(path + "-nowhere"), "O_EXCL followed the symlink and created its target"


@pytest.mark.claim("lock.excl_file")
def test_file_as_lock_between_processes(ipc, spawn, observe):
    """A second process cannot create the lock file another made; after unlink() it can."""
    path = ipc.path("lockfile")
    assert spawn.run(_take_file_lock, path, timeout=2).unwrap() == "created"
    fails_with(errno.EEXIST, os.open, path, EXCL, 0o644, what="taking a file lock another process holds")
    os.unlink(path)  # releasing the lock
    again = spawn.run(_take_file_lock, path, timeout=2)
    observe("after_unlink", str(again))
    assert again.value == "created", f"expected the lock to be free after unlink(), child {again}"
