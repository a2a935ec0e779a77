"""The child bodies the lock tests share: a process that holds a lock until it is told to
let go, a process that tries to take one, and the file they lock. The locking calls
themselves are fixtures.locks.

The module name is unique on purpose: test directories are rootdir-relative
imports without packages, so a generic "_helpers" would collide with another suite's.
"""
from __future__ import annotations

import os

from fixtures import libc as lc
from fixtures.locks import LOCK_NB, flock, setlk, setlkw

# How long a lock holder waits for its "let go"; the spawn fixture kills it at teardown anyway.
HOLD_BOUND = 5.0


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
