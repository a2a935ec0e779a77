"""System V control calls the fixtures do not wrap: IPC_STAT/IPC_SET/IPC_INFO, shmat, semctl values.

Structures follow the kernel's 64-bit UAPI (ipc64_perm, msqid64_ds, semid64_ds,
shmid64_ds), which is also what glibc and musl hand to the kernel on 64-bit
architectures; buffers are over-allocated so a libc with a larger struct never
writes past them. The module name is unique because test directories are
imported without packages.
"""
from __future__ import annotations

import ctypes
import os
import subprocess

from fixtures import libc as lc

c_int, c_uint, c_ushort, c_long, c_ulong = (ctypes.c_int, ctypes.c_uint, ctypes.c_ushort,
                                           ctypes.c_long, ctypes.c_ulong)
GETVAL = 12
SETVAL = 16
SEM_INFO = 19
SHM_INFO = 14


class IpcPerm(ctypes.Structure):
    _fields_ = [("key", c_int), ("uid", c_uint), ("gid", c_uint), ("cuid", c_uint),
                ("cgid", c_uint), ("mode", c_uint), ("seq", c_ushort), ("pad2", c_ushort),
                ("unused1", c_ulong), ("unused2", c_ulong)]


class MsqidDs(ctypes.Structure):
    _fields_ = [("perm", IpcPerm), ("stime", c_long), ("rtime", c_long), ("ctime", c_long),
                ("cbytes", c_ulong), ("qnum", c_ulong), ("qbytes", c_ulong), ("lspid", c_int),
                ("lrpid", c_int), ("unused4", c_ulong), ("unused5", c_ulong), ("spare", ctypes.c_char * 64)]


class SemidDs(ctypes.Structure):
    # x86_64 keeps a padding word after each time (arch/x86/include/uapi/asm/sembuf.h);
    # asm-generic 64-bit layouts (arm64, riscv64, ...) do not.
    _fields_ = ([("perm", IpcPerm), ("otime", c_long), ("unused1", c_ulong), ("ctime", c_long),
                 ("unused2", c_ulong)] if os.uname().machine == "x86_64" else
                [("perm", IpcPerm), ("otime", c_long), ("ctime", c_long)]) + [
        ("nsems", c_ulong), ("unused3", c_ulong), ("unused4", c_ulong), ("spare", ctypes.c_char * 64)]


class ShmidDs(ctypes.Structure):
    _fields_ = [("perm", IpcPerm), ("segsz", ctypes.c_size_t), ("atime", c_long), ("dtime", c_long),
                ("ctime", c_long), ("cpid", c_int), ("lpid", c_int), ("nattch", c_ulong),
                ("unused4", c_ulong), ("unused5", c_ulong), ("spare", ctypes.c_char * 64)]


class MsgInfo(ctypes.Structure):
    _fields_ = [("msgpool", c_int), ("msgmap", c_int), ("msgmax", c_int), ("msgmnb", c_int),
                ("msgmni", c_int), ("msgssz", c_int), ("msgtql", c_int), ("msgseg", c_ushort),
                ("spare", ctypes.c_char * 64)]


class SemInfo(ctypes.Structure):
    _fields_ = [("semmap", c_int), ("semmni", c_int), ("semmns", c_int), ("semmnu", c_int),
                ("semmsl", c_int), ("semopm", c_int), ("semume", c_int), ("semusz", c_int),
                ("semvmx", c_int), ("semaem", c_int), ("spare", ctypes.c_char * 64)]


class ShmInfo(ctypes.Structure):
    _fields_ = [("shmmax", c_ulong), ("shmmin", c_ulong), ("shmmni", c_ulong), ("shmseg", c_ulong),
                ("shmall", c_ulong), ("unused", c_ulong * 4), ("spare", ctypes.c_char * 64)]


_msgctl = lc._fn("msgctl", c_int, c_int, c_int, ctypes.c_void_p)
_shmctl = lc._fn("shmctl", c_int, c_int, c_int, ctypes.c_void_p)
# semctl is variadic; its fourth argument (union semun) is a pointer or an int, one word either way.
_semctl_ptr = ctypes.CFUNCTYPE(c_int, c_int, c_int, c_int, ctypes.c_void_p, use_errno=True)(("semctl", lc.libc))
_semctl_int = ctypes.CFUNCTYPE(c_int, c_int, c_int, c_int, c_long, use_errno=True)(("semctl", lc.libc))
_shmat = lc._fn("shmat", ctypes.c_void_p, c_int, ctypes.c_void_p, c_int)
_shmdt = lc._fn("shmdt", c_int, ctypes.c_void_p)

KINDS = ("msg", "sem", "shm")
JOURNAL_KIND = {"msg": "sysv_msg", "sem": "sysv_sem", "shm": "sysv_shm"}
DS = {"msg": MsqidDs, "sem": SemidDs, "shm": ShmidDs}


def ctl(kind: str, ident: int, cmd: int, buf=None) -> int:
    ref = ctypes.byref(buf) if buf is not None else None
    if kind == "msg":
        return lc.check(_msgctl(ident, cmd, ref), f"msgctl({ident}, {cmd})")
    if kind == "shm":
        return lc.check(_shmctl(ident, cmd, ref), f"shmctl({ident}, {cmd})")
    return lc.check(_semctl_ptr(ident, 0, cmd, ref), f"semctl({ident}, {cmd})")


def stat(kind: str, ident: int):
    """IPC_STAT: the object's *id_ds (OSError with the kernel's errno on failure)."""
    ds = DS[kind]()
    ctl(kind, ident, lc.IPC_STAT, ds)
    return ds


def ipc_set(kind: str, ident: int, ds) -> None:
    ctl(kind, ident, lc.IPC_SET, ds)


def rmid(kind: str, ident: int) -> None:
    ctl(kind, ident, lc.IPC_RMID)


def get(kind: str, key: int, flags: int, size: int = 4096, nsems: int = 1) -> int:
    """msgget/semget/shmget with the libc wrappers (OSError with the real errno)."""
    if kind == "msg":
        return lc.msgget(key, flags)
    if kind == "sem":
        return lc.semget(key, nsems, flags)
    return lc.shmget(key, size, flags)


def make(ipc, kind: str, key: int | None = None, mode: int = 0o600) -> int:
    """A new object of `kind` through the ipc fixture (removed at teardown)."""
    return {"msg": ipc.msgq, "sem": ipc.sem, "shm": ipc.shm}[kind](key=key, mode=mode)


def semget_value(semid: int, num: int = 0) -> int:
    return lc.check(_semctl_int(semid, num, GETVAL, 0), "semctl(GETVAL)")


def semset_value(semid: int, value: int, num: int = 0) -> None:
    lc.check(_semctl_int(semid, num, SETVAL, value), "semctl(SETVAL)")


def shm_write(shmid: int, data: bytes) -> None:
    addr = _shmat(shmid, None, 0)
    if addr is None or addr == ctypes.c_void_p(-1).value:
        lc.check(-1, "shmat")
    try:
        ctypes.memmove(addr, data, len(data))
    finally:
        lc.check(_shmdt(addr), "shmdt")


def shm_read(shmid: int, size: int) -> bytes:
    addr = _shmat(shmid, None, 0o10000)  # SHM_RDONLY
    if addr is None or addr == ctypes.c_void_p(-1).value:
        lc.check(-1, "shmat")
    try:
        return ctypes.string_at(addr, size)
    finally:
        lc.check(_shmdt(addr), "shmdt")


def ipc_info(kind: str):
    """IPC_INFO: the system-wide limits the kernel reports for `kind`."""
    info = {"msg": MsgInfo, "sem": SemInfo, "shm": ShmInfo}[kind]()
    ctl(kind, 0, lc.IPC_INFO, info)
    return info


def run_tool(argv: list[str]) -> tuple[int, str, str]:
    """Run a command-line tool and collect (status, stdout, stderr); call it inside a spawn child
    so the tool is a grandchild in that child's process group."""
    env = dict(os.environ, LC_ALL="C")  # the labels parse_ipcs_limits reads are the C locale's
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10, env=env)
    return done.returncode, done.stdout, done.stderr


# fixtures.libc.msg_buffer copies the text into a temporary bytes object (a c_char array
# field reads back as bytes), so msgsnd sends zeros and msgrcv corrupts the interpreter's
# heap; until it is fixed, the struct msgbuf is laid out by hand here.
_msgsnd = lc._fn("msgsnd", c_int, c_int, ctypes.c_void_p, ctypes.c_size_t, c_int)
_msgrcv = lc._fn("msgrcv", ctypes.c_ssize_t, c_int, ctypes.c_void_p, ctypes.c_size_t, c_long, c_int)
_MTYPE = ctypes.sizeof(c_long)


def msgsnd(msqid: int, mtype: int, text: bytes, flags: int = 0) -> None:
    buf = ctypes.create_string_buffer(_MTYPE + max(len(text), 1))
    c_long.from_buffer(buf).value = mtype
    ctypes.memmove(ctypes.addressof(buf) + _MTYPE, text, len(text))
    lc.check(_msgsnd(msqid, buf, len(text), flags), "msgsnd")


def msgrcv(msqid: int, size: int, mtype: int = 0, flags: int = 0) -> tuple[int, bytes]:
    buf = ctypes.create_string_buffer(_MTYPE + max(size, 1))
    got = lc.check(_msgrcv(msqid, buf, size, mtype, flags), "msgrcv")
    return c_long.from_buffer(buf).value, buf.raw[_MTYPE:_MTYPE + got]


IPCS_LABELS = {
    "max queues system wide": "msgmni",
    "max size of message (bytes)": "msgmax",
    "default max size of queue (bytes)": "msgmnb",
    "max number of segments": "shmmni",
    "max seg size (kbytes)": "shmmax_kb",
    "max total shared memory (kbytes)": "shmall_kb",
    "min seg size (bytes)": "shmmin",
    "max number of arrays": "semmni",
    "max semaphores per array": "semmsl",
    "max semaphores system wide": "semmns",
    "max ops per semop call": "semopm",
    "semaphore max value": "semvmx",
}


def parse_ipcs_limits(text: str) -> dict[str, int]:
    """util-linux `ipcs -l` output (C locale labels) -> {limit name: value}."""
    out = {}
    for line in text.splitlines():
        label, sep, value = line.partition("=")
        name = IPCS_LABELS.get(label.strip())
        if sep and name and value.strip().isdigit():
            out[name] = int(value.strip())
    return out
