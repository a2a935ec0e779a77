"""lock.mandatory: on a file system mounted with mand, a set-group-ID file without group-execute
makes another process's conflicting read/write fail with EAGAIN (O_NONBLOCK) or block, on
kernels that have mandatory locking; since 5.15 mand is ignored and the lock stays advisory.

The mand mount lives in a spawned child's own mount namespace (never the host's); this process
and its other children reach the file through /proc/<child>/root.
"""
import os

import pytest

from fixtures.expect import succeeds
from fixtures.locks import F_UNLCK, F_WRLCK, setlk
from mandlock_helpers import expects_enforcement, io_once, mand_namespace

NO_NAMESPACE = ("needs a private mount namespace for the mand tmpfs: CAP_SYS_ADMIN, or unprivileged "
                "user namespaces (kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0); "
                "unshare gave {errno}")
NO_MAND = ("mounting with mand needs CAP_SYS_ADMIN in the initial user namespace on kernels that "
           "enforce mandatory locking; this process has it only in its own user namespace "
           "(run as root to test enforcement)")


# What the verdict's reason says was seen (the claim holds either way on its kernel).
ENFORCED = "mandatory locking enforced: "
IGNORED = "mand ignored as from 5.15 on (no CONFIG_MANDATORY_FILE_LOCKING), the lock stays advisory: "


@pytest.fixture
def mand_file(ipc, spawn, channel, kernel, observe):
    """(path of a mode-02644 file on a private `mand` tmpfs, whether this kernel should enforce)."""
    mount_point = os.path.realpath(os.path.join(ipc.dir, "mand"))
    os.mkdir(mount_point)
    ready, done = channel(), channel()
    holder = spawn(mand_namespace, mount_point, ready, done, name="mount namespace holder")
    info = ready.recv(what="mount namespace holder")
    if info["namespace"] is None:
        pytest.skip(NO_NAMESPACE.format(errno=info["errno"]))
    enforced = expects_enforcement(kernel)
    if info["mand_errno"] and enforced:
        pytest.skip(NO_MAND)
    observe("namespace", info["namespace"])
    observe("mand_mount", info["mand_errno"] or "accepted")
    super_options = info["mountinfo"].split(" - ", 1)[-1]
    observe("mount_options", super_options)
    observe("mand_in_mountinfo", "mand" in super_options.split()[-1].split(","))
    observe("file_mode", info["mode"])
    observe("expected_enforced", enforced)
    yield f"/proc/{holder.pid}/root{info['file']}", enforced
    done.send("end of test")  # the namespace, and its mount, end with the holder


@pytest.mark.claim("lock.mandatory")
@pytest.mark.parametrize("op", ["read", "write"])
def test_nonblocking_io_on_locked_file(op, mand_file, spawn, observe, verdict_note):
    """O_NONBLOCK read/write of a write-locked mandatory-mode file: EAGAIN if enforced, else done."""
    path, enforced = mand_file
    fd = os.open(path, os.O_RDWR)
    try:
        setlk(fd, F_WRLCK, 0, 0)
        outcome = spawn.run(io_once, path, op, True, timeout=2).unwrap()
    finally:
        os.close(fd)
    observe(op, outcome)
    observe("enforced", outcome == "EAGAIN")
    if enforced:
        assert outcome == "EAGAIN", (f"mandatory locking: expected O_NONBLOCK {op} of a write-locked "
                                     f"region to fail with EAGAIN, kernel gave {outcome}")
    else:
        assert outcome == 8, (f"mand is ignored on this kernel (5.15+ or no CONFIG_MANDATORY_FILE_LOCKING): "
                              f"expected the {op} to go through the advisory lock (8 bytes), kernel gave {outcome}")
    verdict_note(ENFORCED + f"O_NONBLOCK {op} of the locked region failed with EAGAIN" if enforced
                 else IGNORED + f"O_NONBLOCK {op} of the locked region went through")


@pytest.mark.claim("lock.mandatory")
def test_blocking_write_on_locked_file(mand_file, spawn, observe, verdict_note):
    """A blocking write of a write-locked mandatory-mode file sleeps until unlock if enforced."""
    path, enforced = mand_file
    fd = os.open(path, os.O_RDWR)
    try:
        setlk(fd, F_WRLCK, 0, 0)
        writer = spawn(io_once, path, "write", False, name="writer")
        if enforced:
            writer.wait_blocked("write", what="writer to a mandatory-locked region")
            succeeds(setlk, fd, F_UNLCK, 0, 0, what="releasing the mandatory lock")
        outcome = writer.value(timeout=2)  # without enforcement a timeout here means it blocked
    finally:
        os.close(fd)
    observe("blocking_write", outcome)
    observe("enforced", enforced)  # had the write returned while the lock was held, value() said so
    assert outcome == 8, f"expected the write to complete with 8 bytes{' after the unlock' if enforced else ''}, got {outcome}"
    verdict_note(ENFORCED + "a blocking write slept in write() until the unlock" if enforced
                 else IGNORED + "a blocking write went through at once")
