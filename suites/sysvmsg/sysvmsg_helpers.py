"""msgsnd/msgrcv/msgctl through libc with the struct layouts the kernel reads, for the sysvmsg suite.

fixtures.libc.msg_buffer is not usable: it copies the text into `buf.mtext`, which for
a c_char array field is a temporary bytes object, so msgsnd sends zeros and msgrcv
writes the received text over that object (heap corruption). The struct msgbuf
{long mtype; char mtext[]} is laid out by hand here instead.

struct msqid_ds is the kernel's msqid64_ds on LP64 (asm-generic/msgbuf.h, used by
x86_64, aarch64, riscv64): ipc64_perm (key, uid, gid, cuid, cgid, mode: 4-byte
each; seq, pad: 2-byte; two unsigned longs, 48 bytes in all), stime, rtime, ctime
(long), cbytes, qnum, qbytes (unsigned long), lspid, lrpid (int), two unsigned
longs. glibc's 64-bit struct msqid_ds is the same; musl's differs only in naming
(its ipc_perm has an int seq where the kernel has ushort seq + ushort pad: the
same bytes on little-endian). 32-bit ABIs (split 64-bit times in glibc, time64
translation in musl) are not laid out here: the suite's msqid_ds is LP64 only.
The buffer is over-allocated so a libc with a larger struct never writes past it.
The module name is unique because test directories are imported without packages.
"""
from __future__ import annotations

import ctypes
import errno

from fixtures import libc as lc

c_int, c_uint, c_ushort, c_long, c_ulong = (ctypes.c_int, ctypes.c_uint, ctypes.c_ushort,
                                           ctypes.c_long, ctypes.c_ulong)
LONG = ctypes.sizeof(c_long)

_msgsnd = lc._fn("msgsnd", c_int, c_int, ctypes.c_void_p, ctypes.c_size_t, c_int)
_msgrcv = lc._fn("msgrcv", ctypes.c_ssize_t, c_int, ctypes.c_void_p, ctypes.c_size_t, c_long, c_int)
_msgctl = lc._fn("msgctl", c_int, c_int, c_int, ctypes.c_void_p)


class IpcPerm(ctypes.Structure):
    _fields_ = [("key", c_int), ("uid", c_uint), ("gid", c_uint), ("cuid", c_uint),
                ("cgid", c_uint), ("mode", c_uint), ("seq", c_ushort), ("pad2", c_ushort),
                ("unused1", c_ulong), ("unused2", c_ulong)]


class MsqidDs(ctypes.Structure):
    _fields_ = [("perm", IpcPerm), ("stime", c_long), ("rtime", c_long), ("ctime", c_long),
                ("cbytes", c_ulong), ("qnum", c_ulong), ("qbytes", c_ulong), ("lspid", c_int),
                ("lrpid", c_int), ("unused4", c_ulong), ("unused5", c_ulong),
                ("spare", ctypes.c_char * 64)]


def msgsnd(msqid: int, mtype: int, text: bytes, flags: int = 0) -> None:
    """msgsnd(2) of {long mtype; mtext = text}; OSError with the kernel's errno."""
    buf = ctypes.create_string_buffer(LONG + max(len(text), 1))
    c_long.from_buffer(buf).value = mtype
    ctypes.memmove(ctypes.addressof(buf) + LONG, text, len(text))
    lc.check(_msgsnd(msqid, buf, len(text), flags), "msgsnd")


def msgsnd_bytes(msqid: int, raw, size: int, flags: int = 0) -> None:
    """msgsnd(2) of a caller-built buffer (any ctypes object), `size` bytes of mtext."""
    lc.check(_msgsnd(msqid, ctypes.byref(raw), size, flags), "msgsnd")


def msgrcv(msqid: int, size: int, msgtyp: int = 0, flags: int = 0) -> tuple[int, bytes]:
    """msgrcv(2) into a {long mtype; char mtext[size]}: (mtype, the count bytes of mtext)."""
    buf = ctypes.create_string_buffer(LONG + max(size, 1))
    got = lc.check(_msgrcv(msqid, buf, size, msgtyp, flags), "msgrcv")
    return c_long.from_buffer(buf).value, buf.raw[LONG:LONG + got]


def msgrcv_count(msqid: int, size: int, msgtyp: int = 0, flags: int = 0) -> int:
    """msgrcv(2) returning only the count the kernel returned."""
    buf = ctypes.create_string_buffer(LONG + max(size, 1))
    return lc.check(_msgrcv(msqid, buf, size, msgtyp, flags), "msgrcv")


def stat(msqid: int) -> MsqidDs:
    ds = MsqidDs()
    lc.check(_msgctl(msqid, lc.IPC_STAT, ctypes.byref(ds)), "msgctl(IPC_STAT)")
    return ds


def set_qbytes(msqid: int, qbytes: int) -> None:
    """IPC_SET with the queue's current perm and a new msg_qbytes."""
    ds = stat(msqid)
    ds.qbytes = qbytes
    lc.check(_msgctl(msqid, lc.IPC_SET, ctypes.byref(ds)), "msgctl(IPC_SET)")


def rmid(msqid: int) -> None:
    lc.check(_msgctl(msqid, lc.IPC_RMID, None), "msgctl(IPC_RMID)")


def drain(msqid: int, size: int = 8192) -> list[tuple[int, bytes]]:
    """Every message left, in queue order (type 0, IPC_NOWAIT until ENOMSG)."""
    out = []
    while True:
        try:
            out.append(msgrcv(msqid, size, 0, lc.IPC_NOWAIT))
        except OSError as exc:
            if exc.errno == errno.ENOMSG:
                return out
            raise



# The two ways to make a queue: from a key of the run's range, and IPC_PRIVATE.
CREATE = {"key": None, "private": 0}


SA_RESTART = 0x10000000


class _Sigaction(ctypes.Structure):
    # glibc and musl on LP64 (x86_64, aarch64): handler, 1024-bit mask, int flags, restorer.
    _fields_ = [("handler", ctypes.c_void_p), ("mask", c_ulong * 16), ("flags", c_int),
                ("restorer", ctypes.c_void_p)]


_sigaction = lc._fn("sigaction", c_int, c_int, ctypes.c_void_p, ctypes.c_void_p)


def sa_flags(signum: int) -> int:
    """The sa_flags of the installed disposition of signum, as sigaction(2) reports them."""
    old = _Sigaction()
    lc.check(_sigaction(signum, None, ctypes.byref(old)), "sigaction")
    return old.flags


# Calls that must block, for children: a receive on an empty queue, a send to a full one.
def receive_from_empty(msqid: int) -> None:
    msgrcv(msqid, 64, 0)


def send_to_full(msqid: int) -> None:
    set_qbytes(msqid, 4)  # a 4-byte queue (lowering needs no privilege): the 5-byte send waits
    msgsnd(msqid, 1, b"full", lc.IPC_NOWAIT)
    msgsnd(msqid, 1, b"waits")


BLOCKING = {"msgrcv": receive_from_empty, "msgsnd": send_to_full}
