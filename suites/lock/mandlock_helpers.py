"""A private tmpfs mounted with `mand`, for the mandatory-locking claims, and a write() stalled
mid-copy with userfaultfd, for the race.

Nothing here mounts in the pytest process: `mand_namespace` runs in a spawned child that
unshares its mount namespace (inside a new user namespace when it lacks CAP_SYS_ADMIN), makes
every mount private, and mounts a tmpfs with MS_MANDLOCK over a directory of the test's own
`ipc.dir`. The host never sees that mount; it dies with the child's namespace (and the last
descriptor of its files). Other processes reach the file through /proc/<child>/root/..., which
resolves in the child's mount namespace.
"""
from __future__ import annotations

import ctypes
import errno
import mmap
import os
import select
import struct
import threading

from fixtures import abi, syscalls
from fixtures import libc as lc

MODE_MANDATORY = 0o2644  # set-group-ID on, group-execute off: the per-file marker
FILE_SIZE = 64


def expects_enforcement(kernel) -> bool:
    """Mandatory locks are enforced before 4.5 always (the option did not exist: the notes'
    3.10 has them), from 4.5 to 5.14 on kernels built with CONFIG_MANDATORY_FILE_LOCKING (default
    y; assumed when the kernel's config cannot be read, and the fixture then learns it from
    mount: a kernel without it refuses mand with EPERM even to CAP_SYS_ADMIN), never since 5.15."""
    if kernel.at_least(5, 15):
        return False
    if not kernel.at_least(4, 5):
        return True
    return kernel.config("CONFIG_MANDATORY_FILE_LOCKING") is not None or not kernel.kconfig_known


def _write_map(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _enter_mount_namespace() -> str:
    """unshare a mount namespace; in a new user namespace when CAP_SYS_ADMIN is missing."""
    try:
        lc.unshare(lc.CLONE_NEWNS)
        return "mount namespace"
    except OSError as exc:
        if exc.errno != errno.EPERM:
            raise
    uid, gid = os.getuid(), os.getgid()
    lc.unshare(lc.CLONE_NEWUSER | lc.CLONE_NEWNS)  # EPERM/EINVAL/ENOSPC: the caller says why
    _write_map("/proc/self/setgroups", "deny")
    _write_map("/proc/self/uid_map", f"0 {uid} 1")
    _write_map("/proc/self/gid_map", f"0 {gid} 1")
    return "user and mount namespace"


def mountinfo_line(mount_point: str) -> str:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if line.split()[4] == mount_point:
                return line.strip()
    return ""


def _make_file(path: str, mode: int) -> str:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
    os.write(fd, b"." * FILE_SIZE)
    os.fchmod(fd, mode)  # after creation: the umask and inheritance rules cannot strip it
    os.close(fd)
    return path


def mand_namespace(mount_point: str, ready, done):
    """Child body: mount a `mand` tmpfs on mount_point in a private namespace with a mode-02644
    file and (a negative control) a mode-0644 one, and a plain tmpfs inside it holding another
    02644 file; report them on `ready`, and keep the namespace alive until `done` says so.

    Reports one dict: {"namespace", "mand_errno", "mountinfo", "file", "mode", "plain_mode_file",
    "plain_mount_file"}, or {"namespace": None, "errno", "why"} when no private mount namespace
    could be made."""
    try:
        how = _enter_mount_namespace()
    except OSError as exc:
        ready.send({"namespace": None, "errno": lc.errno_name(exc.errno), "why": "unshare"})
        return "no namespace"
    try:
        lc.mount("none", "/", None, lc.MS_REC | lc.MS_PRIVATE)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        # a chroot whose / is not a mount point: its mounts cannot be made private
        ready.send({"namespace": None, "errno": "EINVAL", "why": "/ is not a mount point"})
        return "no private mounts"
    mand_errno = None
    try:
        lc.mount("ipcc-mand", mount_point, "tmpfs", lc.MS_MANDLOCK, "size=64k,mode=0777")
    except OSError as exc:
        # Kernels 4.5-5.14 refuse mand without CAP_SYS_ADMIN in the initial namespace, or
        # always when built without CONFIG_MANDATORY_FILE_LOCKING: fall back to a plain tmpfs.
        if exc.errno != errno.EPERM:
            raise
        mand_errno = lc.errno_name(exc.errno)
        lc.mount("ipcc-mand", mount_point, "tmpfs", 0, "size=64k,mode=0777")
    path = _make_file(os.path.join(mount_point, "mandatory"), MODE_MANDATORY)
    plain_mode = _make_file(os.path.join(mount_point, "plain-mode"), 0o644)
    plain_dir = os.path.join(mount_point, "plain-mount")
    os.mkdir(plain_dir)
    lc.mount("ipcc-plain", plain_dir, "tmpfs", 0, "size=64k,mode=0777")
    plain_mount = _make_file(os.path.join(plain_dir, "mandatory-mode"), MODE_MANDATORY)
    ready.send({"namespace": how, "mand_errno": mand_errno, "mountinfo": mountinfo_line(mount_point),
                "file": path, "mode": oct(os.stat(path).st_mode & 0o7777),
                "plain_mode_file": plain_mode, "plain_mount_file": plain_mount})
    done.recv(10.0, what="the end of the test")
    return "namespace released"


def io_once(path: str, op: str, nonblock: bool):
    """Child body: one read(2) or write(2) of 8 bytes at offset 16: the count, or the errno name."""
    fd = os.open(path, os.O_RDWR | (os.O_NONBLOCK if nonblock else 0))
    try:
        os.lseek(fd, 16, os.SEEK_SET)
        if op == "write":
            return lc.write(fd, b"WRITTEN!")
        return len(lc.read(fd, 8))
    except OSError as exc:
        return lc.errno_name(exc.errno)
    finally:
        os.close(fd)


# -- a write() stalled after its lock check, with userfaultfd ---------------------------------

UFFDIO_API = 0xC018AA3F       # _IOWR(0xAA, 0x3F, struct uffdio_api)
UFFDIO_REGISTER = 0xC020AA00  # _IOWR(0xAA, 0x00, struct uffdio_register)
UFFDIO_COPY = 0xC028AA03      # _IOWR(0xAA, 0x03, struct uffdio_copy)
UFFD_API = 0xAA
UFFDIO_REGISTER_MODE_MISSING = 1
UFFD_EVENT_PAGEFAULT = 0x12

_syscall = lc.libc["syscall"]  # fresh function pointers: other modules give these other argtypes
_syscall.restype = ctypes.c_long
_ioctl = lc.libc["ioctl"]
_ioctl.restype = ctypes.c_int
_ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
_mmap = lc.libc["mmap"]
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                  ctypes.c_long]


def _uffd_ioctl(fd: int, request: int, payload: bytes) -> bytes:
    buf = ctypes.create_string_buffer(payload, len(payload))
    lc.check(_ioctl(fd, request, buf), "ioctl(userfaultfd)")
    return buf.raw


def stalled_write(path: str, text: bytes, stalled, go):
    """Child body: write(fd, buf, len) from a page that is not there yet, so the write passes
    its lock check and then sleeps in the page fault (userfaultfd, handled here). Reports
    ("stalled", address) on `stalled`, fills the page when `go` arrives, returns the count."""
    page = mmap.PAGESIZE
    try:
        (number,) = syscalls.numbers("userfaultfd", abi.process_abi()) or (-1,)  # ENOSYS if untabled
        uffd = lc.check(_syscall(number,
                                 os.O_CLOEXEC | os.O_NONBLOCK), "userfaultfd")
    except OSError as exc:  # EPERM: unprivileged and vm.unprivileged_userfaultfd=0; ENOSYS: not built
        stalled.send(("unavailable", lc.errno_name(exc.errno)))
        return "no userfaultfd"
    _uffd_ioctl(uffd, UFFDIO_API, struct.pack("QQQ", UFFD_API, 0, 0))
    addr = _mmap(None, page, mmap.PROT_READ | mmap.PROT_WRITE,
                 mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    _uffd_ioctl(uffd, UFFDIO_REGISTER, struct.pack("QQQQ", addr, page, UFFDIO_REGISTER_MODE_MISSING, 0))
    fd = os.open(path, os.O_RDWR)
    outcome = {}

    def writer():  # the syscall under test; ctypes drops the GIL, the fault parks this thread
        try:
            outcome["count"] = lc.check(lc._write(fd, addr, len(text)), "write")
        except OSError as exc:
            outcome["count"] = lc.errno_name(exc.errno)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    ready, _, _ = select.select([uffd], [], [], 5.0)
    if not ready:
        raise AssertionError("the write never faulted on its userfaultfd page")
    msg = os.read(uffd, 32)
    event, fault = msg[0], struct.unpack_from("Q", msg, 16)[0]
    if event != UFFD_EVENT_PAGEFAULT:
        raise AssertionError(f"unexpected userfaultfd event {event:#x}")
    stalled.send(("stalled", hex(fault)))
    go.recv(5.0, what="the go after the lock was taken")
    source = ctypes.create_string_buffer(text.ljust(page, b"\0"), page)
    _uffd_ioctl(uffd, UFFDIO_COPY, struct.pack("QQQQq", addr, ctypes.addressof(source), page, 0, 0))
    thread.join(5.0)
    os.close(fd)
    return outcome.get("count", "write never returned")
