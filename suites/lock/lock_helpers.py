"""Record locks, flock() and open-file-description locks through libc, with errno.

Kept in the lock suite (not fixtures/): struct flock as the kernel reads it,
fcntl(F_SETLK/F_SETLKW/F_GETLK and the F_OFD_* commands) and flock(2) called
once through ctypes (the fcntl module retries EINTR and packs the struct
itself), and the child bodies the lock tests share: a process that holds a lock
until it is told to let go, and a process that tries to take one.

The module name is unique on purpose: test directories are rootdir-relative
imports without packages, so a generic "_helpers" would collide with another suite's.
"""
from __future__ import annotations

import ctypes
import fcntl as _fcntl_consts
import os

from fixtures import libc as lc

F_RDLCK, F_WRLCK, F_UNLCK = _fcntl_consts.F_RDLCK, _fcntl_consts.F_WRLCK, _fcntl_consts.F_UNLCK
F_GETLK, F_SETLK, F_SETLKW = _fcntl_consts.F_GETLK, _fcntl_consts.F_SETLK, _fcntl_consts.F_SETLKW
F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = lc.F_OFD_GETLK, lc.F_OFD_SETLK, lc.F_OFD_SETLKW
LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN = 1, 2, 4, 8
TYPE_NAMES = {F_RDLCK: "F_RDLCK", F_WRLCK: "F_WRLCK", F_UNLCK: "F_UNLCK"}

# How long a lock holder waits for its "let go"; the spawn fixture kills it at teardown anyway.
HOLD_BOUND = 5.0


class Flock(ctypes.Structure):
    """struct flock (<fcntl.h>, 64-bit off_t): the layout fcntl(2) reads and F_GETLK fills in."""

    _fields_ = [("l_type", ctypes.c_short), ("l_whence", ctypes.c_short),
                ("l_start", ctypes.c_int64), ("l_len", ctypes.c_int64),
                ("l_pid", ctypes.c_int)]

    def describe(self) -> dict:
        return {"l_type": TYPE_NAMES.get(self.l_type, self.l_type), "l_start": self.l_start,
                "l_len": self.l_len, "l_pid": self.l_pid}


_fcntl = lc.libc.fcntl
_fcntl.restype = ctypes.c_int
_fcntl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
_flock = lc.libc.flock
_flock.restype = ctypes.c_int
_flock.argtypes = [ctypes.c_int, ctypes.c_int]


def fcntl_lock(fd: int, cmd: int, ltype: int, start: int = 0, length: int = 0) -> Flock:
    """fcntl(fd, cmd, &{ltype, SEEK_SET, start, length, pid 0}) once; returns the struct."""
    fl = Flock(l_type=ltype, l_whence=os.SEEK_SET, l_start=start, l_len=length, l_pid=0)
    lc.check(_fcntl(fd, cmd, ctypes.addressof(fl)), "fcntl")
    return fl


def setlk(fd: int, ltype: int, start: int = 0, length: int = 0) -> None:
    fcntl_lock(fd, F_SETLK, ltype, start, length)


def setlkw(fd: int, ltype: int, start: int = 0, length: int = 0) -> None:
    fcntl_lock(fd, F_SETLKW, ltype, start, length)


def getlk(fd: int, ltype: int = F_WRLCK, start: int = 0, length: int = 0) -> Flock:
    """F_GETLK: the lock that would block `ltype` on the region, or l_type F_UNLCK."""
    return fcntl_lock(fd, F_GETLK, ltype, start, length)


def flock(fd: int, op: int) -> None:
    lc.check(_flock(fd, op), "flock")


def make_file(path: str, size: int = 64, mode: int = 0o644) -> str:
    """A regular file of `size` bytes of b'.', readable and writable by its owner."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode)
    try:
        os.write(fd, b"." * size)
    finally:
        os.close(fd)
    return path


# -- child bodies (run through the spawn fixture) ---------------------------------------------

def hold_fcntl_lock(path, ltype, start, length, ready, release):
    """Take a record lock, report ("locked", pid), and keep it until `release` says so."""
    fd = os.open(path, os.O_RDWR)
    setlk(fd, ltype, start, length)
    ready.send(("locked", os.getpid()))
    release.recv(HOLD_BOUND, what="the test's release message")
    return "released"


def try_setlk(path, ltype, start=0, length=0):
    """Ask for a record lock with F_SETLK once: 'granted', or the errno of the refusal."""
    fd = os.open(path, os.O_RDWR)
    try:
        setlk(fd, ltype, start, length)
    except OSError as exc:
        return lc.errno_name(exc.errno)
    finally:
        os.close(fd)
    return "granted"


def wait_setlkw(path, ltype, start=0, length=0):
    """Ask for a record lock with F_SETLKW (sleeps until granted); 'granted' when it is."""
    fd = os.open(path, os.O_RDWR)
    try:
        setlkw(fd, ltype, start, length)
    finally:
        os.close(fd)
    return "granted"


def hold_flock(path, op, ready, release):
    """Take a flock() lock on a new open file description, report it, keep it until released."""
    fd = os.open(path, os.O_RDWR)
    flock(fd, op | LOCK_NB)
    ready.send(("locked", os.getpid()))
    release.recv(HOLD_BOUND, what="the test's release message")
    return "released"


def try_flock(path, op):
    """flock(op | LOCK_NB) on a new open file description: 'granted' or the errno name."""
    fd = os.open(path, os.O_RDWR)
    try:
        flock(fd, op | LOCK_NB)
    except OSError as exc:
        return lc.errno_name(exc.errno)
    finally:
        os.close(fd)
    return "granted"


def is_refusal(outcome: str) -> bool:
    """F_SETLK refuses a conflicting lock with EACCES or EAGAIN (POSIX leaves the choice)."""
    return outcome in ("EACCES", "EAGAIN")
