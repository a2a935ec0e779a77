"""Kernel access the persistence tests need and fixtures does not give: POSIX mq/sem/shm
through libc (not the posix_ipc binding), an epoll instance's watch list from /proc, and
/proc/sysvipc rows. (System V semop/semctl/shmat: fixtures.sysv; F_GETLK: fixtures.locks.)

Kept in the persistence suite (not fixtures/); the module name is unique on purpose
(rootdir-relative imports: a generic "_helpers" would collide with another suite's).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

from fixtures import libc as lc

c_int, c_uint, c_void_p, c_char_p, c_long = (ctypes.c_int, ctypes.c_uint, ctypes.c_void_p,
                                             ctypes.c_char_p, ctypes.c_long)


def _fn(lib, name, restype, *argtypes):
    f = lib[name]  # a fresh function pointer: the argtypes of fixtures.libc's stay untouched
    f.restype, f.argtypes = restype, list(argtypes)
    return f


def _rt():
    """libc has mq_*/sem_*/shm_* since glibc 2.34 (and in musl); older glibc keeps them in librt."""
    try:
        lc.libc["mq_open"]
        return lc.libc
    except AttributeError:
        return ctypes.CDLL(ctypes.util.find_library("rt"), use_errno=True)


_RT = _rt()


def sysvipc_row(kind: str, ident: int) -> dict | None:
    """The /proc/sysvipc/{msg,sem,shm} row of an id, by column name; None if the id is absent."""
    with open(f"/proc/sysvipc/{kind}") as f:
        header = f.readline().split()
        for line in f:
            row = dict(zip(header, line.split()))
            if int(row.get("msqid", row.get("semid", row.get("shmid", -1)))) == ident:
                return row
    return None


class MqAttr(ctypes.Structure):
    _fields_ = [("mq_flags", c_long), ("mq_maxmsg", c_long), ("mq_msgsize", c_long),
                ("mq_curmsgs", c_long), ("pad", c_long * 4)]


_mq_open = _fn(_RT, "mq_open", c_int, c_char_p, c_int)
_mq_getattr = _fn(_RT, "mq_getattr", c_int, c_int, ctypes.POINTER(MqAttr))
_mq_receive = _fn(_RT, "mq_receive", ctypes.c_ssize_t, c_int, c_char_p, ctypes.c_size_t,
                  ctypes.POINTER(c_uint))
_mq_close = _fn(_RT, "mq_close", c_int, c_int)
_sem_open = _fn(_RT, "sem_open", c_void_p, c_char_p, c_int)
_sem_getvalue = _fn(_RT, "sem_getvalue", c_int, c_void_p, ctypes.POINTER(c_int))
_sem_close = _fn(_RT, "sem_close", c_int, c_void_p)
_shm_open = _fn(_RT, "shm_open", c_int, c_char_p, c_int, c_uint)


def mq_take(name: str) -> tuple[int, bytes]:
    """mq_open(O_RDONLY|O_NONBLOCK) an existing queue: (messages queued, the first message)."""
    mqd = lc.check(_mq_open(name.encode(), os.O_RDONLY | os.O_NONBLOCK), "mq_open")
    try:
        attr = MqAttr()
        lc.check(_mq_getattr(mqd, ctypes.byref(attr)), "mq_getattr")
        buf, prio = ctypes.create_string_buffer(attr.mq_msgsize), c_uint()
        got = lc.check(_mq_receive(mqd, buf, attr.mq_msgsize, ctypes.byref(prio)), "mq_receive")
        return attr.mq_curmsgs, buf.raw[:got]
    finally:
        _mq_close(mqd)


def sem_value(name: str) -> int:
    """sem_open an existing named semaphore (no O_CREAT) and sem_getvalue it."""
    sem = _sem_open(name.encode(), 0)
    if not sem:  # SEM_FAILED is (sem_t *) 0 in glibc and musl
        lc.check(-1, "sem_open")
    try:
        value = c_int()
        lc.check(_sem_getvalue(sem, ctypes.byref(value)), "sem_getvalue")
        return value.value
    finally:
        _sem_close(sem)


def shm_open_readonly(name: str) -> int:
    return lc.check(_shm_open(name.encode(), os.O_RDONLY, 0), "shm_open")


def epoll_watch_inodes(epfd: int) -> list[int]:
    """The inode numbers of the files an epoll instance watches (/proc/self/fdinfo 'tfd:' lines)."""
    inodes = []
    with open(f"/proc/self/fdinfo/{epfd}") as f:
        for line in f:
            if line.startswith("tfd:"):  # "tfd: 4 events: 19 data: 4 pos:0 ino:1e362 sdev:f"
                inodes += [int(tok[4:], 16) for tok in line.split() if tok.startswith("ino:")]
    return inodes
