"""What the sysvmsg tests share beyond fixtures.libc (msgsnd/msgrcv) and fixtures.sysv
(msqid_ds, IPC_STAT/IPC_SET/IPC_RMID): msg_qbytes changes, draining a queue, the ways to
make a queue and the child bodies that must block.

The module name is unique because test directories are imported without packages.
"""
from __future__ import annotations

import ctypes
import errno

from fixtures import libc as lc
from fixtures import sysv

LONG = ctypes.sizeof(ctypes.c_long)  # sizeof(mtype) in struct msgbuf


def set_qbytes(msqid: int, qbytes: int) -> None:
    """IPC_SET with the queue's current perm and a new msg_qbytes."""
    ds = sysv.stat("msg", msqid)
    ds.qbytes = qbytes
    sysv.ipc_set("msg", msqid, ds)


def drain(msqid: int, size: int = 8192) -> list[tuple[int, bytes]]:
    """Every message left, in queue order (type 0, IPC_NOWAIT until ENOMSG)."""
    out = []
    while True:
        try:
            out.append(lc.msgrcv(msqid, size, 0, lc.IPC_NOWAIT))
        except OSError as exc:
            if exc.errno == errno.ENOMSG:
                return out
            raise


# The two ways to make a queue: from a key of the run's range, and IPC_PRIVATE.
CREATE = {"key": None, "private": 0}


# Calls that must block, for children: a receive on an empty queue, a send to a full one.
def receive_from_empty(msqid: int) -> None:
    lc.msgrcv(msqid, 64, 0)


def send_to_full(msqid: int) -> None:
    set_qbytes(msqid, 4)  # a 4-byte queue (lowering needs no privilege): the 5-byte send waits
    lc.msgsnd(msqid, 1, b"full", lc.IPC_NOWAIT)
    lc.msgsnd(msqid, 1, b"waits")


BLOCKING = {"msgrcv": receive_from_empty, "msgsnd": send_to_full}
