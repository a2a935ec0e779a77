"""lock.mandatory.race: where mandatory locking is enforced it is racy: a write() that passed the
lock check before another process took the lock still modifies the locked region; mmap is held
off by two checks of its own (a shared mapping of a locked file, and a lock on a shared-mapped
file, are refused with EAGAIN), between which the documented mmap races lie."""
import errno
import mmap
import os

import pytest

from fixtures.expect import fails_with, succeeds
from fixtures.locks import F_UNLCK, F_WRLCK, setlk
from mandlock_helpers import FILE_SIZE, expects_enforcement, io_once, stalled_write
from test_mandatory import mand_mount  # noqa: F401 - the same private mand mount

TEXT = b"RACED-IN"


@pytest.fixture
def enforced_file(kernel, mand_mount, spawn):
    """The mandatory-mode file, once this mount is shown to enforce (EAGAIN for another process)."""
    if not expects_enforcement(kernel):
        pytest.skip("mandatory locking is not in this kernel (removed in 5.15 / "
                    "CONFIG_MANDATORY_FILE_LOCKING unset): there is no race to show")
    files, enforced, _ = mand_mount
    path = files["file"]
    if not enforced:
        pytest.skip("this kernel refused mand (built without CONFIG_MANDATORY_FILE_LOCKING): "
                    "there is no race to show")
    fd = os.open(path, os.O_RDWR)
    try:
        setlk(fd, F_WRLCK, 0, 0)
        first = spawn.run(io_once, path, "write", True, timeout=2).unwrap()
        setlk(fd, F_UNLCK, 0, 0)
    finally:
        os.close(fd)
    if first != "EAGAIN":
        # The race is a property of enforcement; lock.mandatory carries the missing enforcement.
        pytest.skip(f"mandatory locking is not enforced on this mount though this kernel's version "
                    f"says it should be (another process's O_NONBLOCK write gave {first}; "
                    "lock.mandatory reports it): there is no race to show")
    return path


@pytest.mark.claim("lock.mandatory.race")
def test_in_flight_write_lands_in_locked_region(enforced_file, spawn, channel, observe,
                                                verdict_note):
    """A write stalled mid-copy (userfaultfd) completes into a region locked after its check."""
    path = enforced_file
    stalled, go = channel(), channel()
    writer = spawn(stalled_write, path, TEXT, stalled, go, name="stalled writer")
    state, detail = stalled.recv(what="stalled writer")
    if state == "unavailable":
        pytest.skip(f"needs userfaultfd to stall the write (CONFIG_USERFAULTFD, and CAP_SYS_PTRACE "
                    f"or vm.unprivileged_userfaultfd=1); it gave {detail}")
    fd = os.open(path, os.O_RDWR)
    try:
        succeeds(setlk, fd, F_WRLCK, 0, 0, what="F_WRLCK while another process's write is in flight")
        go.send("locked")
        count = writer.value(timeout=2)
        content = os.pread(fd, len(TEXT), 0)
        fresh = spawn.run(io_once, path, "write", True, timeout=2).unwrap()
    finally:
        os.close(fd)
    observe("fault_address", detail, run_specific=True)
    observe("in_flight_write", count)
    observe("region_under_lock", content.decode(errors="replace"))
    observe("fresh_nonblocking_write", fresh)
    assert content == TEXT, (f"expected the in-flight write to modify the region locked after its "
                             f"check (the documented race), the region holds {content!r}")
    verdict_note(f"raced: a write() held mid-copy after its lock check wrote {count} bytes into the "
                 f"region locked meanwhile; a fresh O_NONBLOCK write then got {fresh}")


def _map_shared(path, ready=None, release=None):
    """mmap(MAP_SHARED) the file for writing: "mapped" (held until `release`), or the errno."""
    fd = os.open(path, os.O_RDWR)
    try:
        mapping = mmap.mmap(fd, FILE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError as exc:
        return errno.errorcode[exc.errno]
    finally:
        os.close(fd)
    if ready is not None:
        ready.send("mapped")
        release.recv(what="the test (unmap)")
    mapping.close()
    return "mapped"


@pytest.mark.claim("lock.mandatory.race")
def test_mmap_and_mandatory_lock_exclude_each_other(enforced_file, spawn, channel, observe,
                                                    partial, verdict_note):
    """A shared writable mapping of a mandatory-locked file is refused with EAGAIN, and so is a
    mandatory lock on a file another process maps shared: mmap cannot simply walk past the lock."""
    path = enforced_file
    fd = os.open(path, os.O_RDWR)
    try:
        setlk(fd, F_WRLCK, 0, 0)
        mapped_while_locked = spawn.run(_map_shared, path, timeout=2).unwrap()
        setlk(fd, F_UNLCK, 0, 0)
        ready, release = channel(), channel()
        mapper = spawn(_map_shared, path, ready, release, name="process mapping the file shared")
        ready.recv(what="the mapping process")
        fails_with(errno.EAGAIN, setlk, fd, F_WRLCK, 0, 0,
                             what="F_SETLK F_WRLCK on a mandatory-mode file another process maps shared")
        release.send("unmap")
        mapper.value(timeout=2)
    finally:
        os.close(fd)
    observe("mmap_shared_while_locked", mapped_while_locked)
    observe("lock_while_mapped_shared", "EAGAIN")
    assert mapped_while_locked == "EAGAIN", (
        f"expected mmap(MAP_SHARED, PROT_WRITE) of a mandatory-locked file to fail with EAGAIN, "
        f"it gave {mapped_while_locked}")
    partial("the mmap race itself", "the window between mmap's lock check and a lock taken "
            "meanwhile is not forced here; only the two checks that bound it are shown")
    verdict_note("mmap held off: a shared mapping of a locked file and a lock on a shared-mapped "
                 "file both gave EAGAIN")
