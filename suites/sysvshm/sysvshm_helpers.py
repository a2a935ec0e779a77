"""What the sysvshm tests share beyond fixtures.sysv (shmat/shmdt, IPC_STAT): attachments that are
always detached, whether a segment still exists, kernel.shm_rmid_forced, SHMLBA, and the bodies
of children that attach.

The module name is unique because test directories are imported without packages.
"""
from __future__ import annotations

import ctypes
import errno
import mmap
from contextlib import contextmanager

from fixtures import abi, libc, sysv
from fixtures.kernel import KERNEL

GONE = (errno.EINVAL, errno.EIDRM)  # IPC_STAT of a destroyed segment


@contextmanager
def attached(shmid: int, addr: int | None = None, flags: int = 0):
    """The segment attached (shmat) for the block, detached after it whatever happens."""
    at = sysv.shmat(shmid, addr, flags)
    try:
        yield at
    finally:
        sysv.shmdt(at)


def exists(shmid: int) -> bool:
    """Whether IPC_STAT still finds the segment (EINVAL/EIDRM: destroyed)."""
    try:
        sysv.stat("shm", shmid)
    except OSError as exc:
        if exc.errno in GONE:
            return False
        raise
    return True


def fields(shmid: int) -> dict:
    """The shmid_ds fields the claims talk about."""
    ds = sysv.stat("shm", shmid)
    return {"segsz": ds.segsz, "cpid": ds.cpid, "lpid": ds.lpid, "nattch": ds.nattch,
            "atime": ds.atime, "dtime": ds.dtime, "ctime": ds.ctime, "key": ds.perm.key,
            "mode": ds.perm.mode}


def rmid_forced() -> bool:
    """kernel.shm_rmid_forced of this IPC namespace: with 1, a segment is destroyed as soon as no
    process is attached (at the last detach, or at its creator's exit when never attached), as
    if IPC_RMID had been called. Where the sysctl is absent (before 3.1, a sandbox) the
    documented default 0, said in the claim's reason (KERNEL.limit)."""
    return KERNEL.limit("kernel/shm_rmid_forced") != 0


FORCED_NOTE = {
    False: "kernel.shm_rmid_forced=0: the segment outlives its last detach and its creator",
    True: "kernel.shm_rmid_forced=1: the segment was destroyed once no process was attached",
}


def write(addr: int, data: bytes) -> None:
    ctypes.memmove(addr, data, len(data))


def read(addr: int, size: int) -> bytes:
    return ctypes.string_at(addr, size)


# SHMLBA as the kernel applies it to a process of each ABI (arch/*/include/asm/shmparam.h):
# asm-generic's PAGE_SIZE for x86 (and i386 on x86_64), arm64, riscv, powerpc, s390, loongarch;
# 4 pages for 32-bit ARM, on an ARM kernel (SHMLBA) and on arm64 (COMPAT_SHMLBA) alike.
SHMLBA_PAGES = {"x86_64": 1, "i386": 1, "aarch64": 1, "riscv64": 1, "loongarch64": 1,
                "ppc64le": 1, "ppc64": 1, "s390x": 1, "arm": 4}


def shmlba() -> int | None:
    """SHMLBA for this process in bytes, None for an ABI not tabled above."""
    pages = SHMLBA_PAGES.get(abi.process_abi())
    return None if pages is None else pages * KERNEL.page_size


_mmap = libc._fn("mmap", ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                 ctypes.c_int, ctypes.c_int, ctypes.c_long)
_munmap = libc._fn("munmap", ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
PROT_NONE, MAP_PRIVATE, MAP_ANONYMOUS = 0, mmap.MAP_PRIVATE, mmap.MAP_ANONYMOUS


def free_aligned_range(size: int, align: int) -> int:
    """An `align`-aligned address with `size` bytes unmapped after it: reserved with mmap, then
    unmapped. Only for a single-threaded process (a child), where nothing maps in between."""
    length = size + 2 * align
    base = _mmap(None, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    if base is None or base == ctypes.c_void_p(-1).value:
        libc.check(-1, f"mmap(NULL, {length}, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS)")
    libc.check(_munmap(base, length), f"munmap({base:#x}, {length})")
    return (base + align - 1) // align * align
