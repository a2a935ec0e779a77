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
from fixtures.verdict import Violation
from mandlock_helpers import expects_enforcement, io_once, mand_namespace

NO_NAMESPACE = ("needs a private mount namespace for the mand tmpfs: CAP_SYS_ADMIN, or unprivileged "
                "user namespaces (kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0); "
                "unshare gave {errno}")
NOT_A_MOUNT = ("needs / to be a mount point to make the test's mounts private (mount(/, MS_REC|"
               "MS_PRIVATE) gave EINVAL: this runs in a chroot whose / is a plain directory; "
               "bind-mount the chroot onto itself first)")
NO_MAND = ("mounting with mand needs CAP_SYS_ADMIN in the initial user namespace on kernels that "
           "enforce mandatory locking; this process has it only in its own user namespace "
           "(run as root to test enforcement)")


# What the verdict's reason says was seen (the claim holds either way on its kernel).
ENFORCED = "mandatory locking enforced: "
IGNORED = "mand ignored as from 5.15 on (no CONFIG_MANDATORY_FILE_LOCKING), the lock stays advisory: "
REFUSED = ("mand refused with EPERM even with CAP_SYS_ADMIN, as a 4.5-5.14 kernel built without "
           "CONFIG_MANDATORY_FILE_LOCKING does; the lock stays advisory: ")


def _judge_mand_refusal(kernel, info) -> None:
    """mount(MS_MANDLOCK) gave EPERM to a process with CAP_SYS_ADMIN in the initial namespace:
    documented only for 4.5-5.14 kernels built without CONFIG_MANDATORY_FILE_LOCKING."""
    value = kernel.config("CONFIG_MANDATORY_FILE_LOCKING")
    if not kernel.at_least(4, 5) or (kernel.kconfig_known and value is not None):
        raise Violation(f"mount(tmpfs, MS_MANDLOCK) gave EPERM to a process with CAP_SYS_ADMIN on "
                        f"{kernel.release} ({'CONFIG_MANDATORY_FILE_LOCKING=' + value if value else 'before 4.5, where mand is always built in'})")


@pytest.fixture
def mand_mount(ipc, spawn, channel, kernel, observe):
    """The private mounts' files (dict from mand_namespace) and the enforcement this kernel shows
    by its documentation: (info, enforced, how the verdict describes it)."""
    mount_point = os.path.realpath(os.path.join(ipc.dir, "mand"))
    os.mkdir(mount_point)
    ready, done = channel(), channel()
    holder = spawn(mand_namespace, mount_point, ready, done, name="mount namespace holder")
    info = ready.recv(what="mount namespace holder")
    if info["namespace"] is None:
        pytest.skip(NOT_A_MOUNT if info["why"] == "/ is not a mount point"
                    else NO_NAMESPACE.format(errno=info["errno"]))
    enforced, said = expects_enforcement(kernel), None
    if info["mand_errno"] and info["namespace"] == "mount namespace":
        _judge_mand_refusal(kernel, info)
        enforced, said = False, REFUSED
    elif info["mand_errno"] and enforced:
        pytest.skip(NO_MAND)
    observe("namespace", info["namespace"])
    observe("mand_mount", info["mand_errno"] or "accepted")
    super_options = info["mountinfo"].split(" - ", 1)[-1]
    observe("mount_options", super_options)
    observe("mand_in_mountinfo", "mand" in super_options.split()[-1].split(","))
    observe("file_mode", info["mode"])
    observe("expected_enforced", enforced)
    root = f"/proc/{holder.pid}/root"
    files = {k: root + info[k] for k in ("file", "plain_mode_file", "plain_mount_file")}
    yield files, enforced, said or (ENFORCED if enforced else IGNORED)
    done.send("end of test")  # the namespace, and its mount, end with the holder


@pytest.fixture
def mand_file(mand_mount):
    """(path of a mode-02644 file on a private `mand` tmpfs, whether this kernel should enforce)."""
    files, enforced, _ = mand_mount
    return files["file"], enforced


@pytest.mark.claim("lock.mandatory")
@pytest.mark.parametrize("op", ["read", "write"])
def test_nonblocking_io_on_locked_file(op, mand_mount, spawn, observe, verdict_note):
    """O_NONBLOCK read/write of a write-locked mandatory-mode file: EAGAIN if enforced, else done."""
    files, enforced, said = mand_mount
    path = files["file"]
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
        assert outcome == 8, (f"{said}expected the {op} to go through the advisory lock (8 bytes), "
                              f"kernel gave {outcome}")
    verdict_note(said + (f"O_NONBLOCK {op} of the locked region failed with EAGAIN" if enforced
                         else f"O_NONBLOCK {op} of the locked region went through"))


@pytest.mark.claim("lock.mandatory")
@pytest.mark.parametrize("op", ["read", "write"])
def test_blocking_io_on_locked_file(op, mand_mount, spawn, observe, verdict_note):
    """A blocking read/write of a write-locked mandatory-mode file sleeps until the unlock if
    enforced, else goes through at once."""
    files, enforced, said = mand_mount
    path = files["file"]
    fd = os.open(path, os.O_RDWR)
    try:
        setlk(fd, F_WRLCK, 0, 0)
        other = spawn(io_once, path, op, False, name=f"blocking {op}")
        if enforced:
            other.wait_blocked(op, what=f"{op} of a mandatory-locked region")
            succeeds(setlk, fd, F_UNLCK, 0, 0, what="releasing the mandatory lock")
        outcome = other.value(timeout=2)  # without enforcement a timeout here means it blocked
    finally:
        os.close(fd)
    observe(f"blocking_{op}", outcome)
    assert outcome == 8, f"expected the {op} to complete with 8 bytes{' after the unlock' if enforced else ''}, got {outcome}"
    verdict_note(said + (f"a blocking {op} slept in {op}() until the unlock" if enforced
                         else f"a blocking {op} went through at once"))


@pytest.mark.claim("lock.mandatory")
@pytest.mark.parametrize("control", ["plain_mode_file", "plain_mount_file"],
                         ids=["0644 file on the mand mount", "02644 file on a plain mount"])
def test_negative_controls_stay_advisory(control, mand_mount, spawn, observe):
    """Without both markers (the mount's mand and the file's set-group-ID without group-execute)
    a write lock is advisory on every kernel: another process's O_NONBLOCK write goes through."""
    files, _, _ = mand_mount
    path = files[control]
    fd = os.open(path, os.O_RDWR)
    try:
        setlk(fd, F_WRLCK, 0, 0)
        outcome = spawn.run(io_once, path, "write", True, timeout=2).unwrap()
    finally:
        os.close(fd)
    observe("write", outcome)
    assert outcome == 8, (f"expected the lock on a {control.replace('_', ' ')} to stay advisory "
                          f"(the write goes through, 8 bytes), kernel gave {outcome}")
