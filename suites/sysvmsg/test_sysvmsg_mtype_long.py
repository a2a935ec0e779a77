"""sysvmsg.mtype_long: mtype is a C long; an int-typed sender struct puts text bytes where the receiver reads the type."""
import ctypes
import errno
import sys

import pytest

from fixtures import libc
from fixtures.expect import fails_with

TEXT = b"ABCDEFGHIJKL"  # ASCII: the high bit of the misread long stays 0, so mtype stays > 0
TAIL = b"wxyz"  # what follows the sender's struct in its memory


class IntTypeMsg(ctypes.Structure):
    """The mistaken struct msgbuf { int mtype; char mtext[12]; } (mtext at offset 4, no padding)."""
    _fields_ = [("mtype", ctypes.c_int), ("mtext", ctypes.c_char * len(TEXT))]


@pytest.mark.claim("sysvmsg.mtype_long")
def test_int_mtype_sender(ipc, observe, verdict_note):
    """A sender with {int mtype = 3; mtext} and len(mtext): the long receiver sees another type and lost text."""
    ilp32 = ctypes.sizeof(ctypes.c_long) == ctypes.sizeof(ctypes.c_int)
    msqid = ipc.msgq()
    # The struct sits in a larger buffer: the kernel reads len(TEXT) bytes after the
    # long, 4 bytes past the struct's end, which must be the sender's memory.
    memory = ctypes.create_string_buffer(ctypes.sizeof(IntTypeMsg) + len(TAIL))
    msg = IntTypeMsg.from_buffer(memory)
    msg.mtype = 3
    ctypes.memmove(ctypes.addressof(msg) + IntTypeMsg.mtext.offset, TEXT, len(TEXT))
    ctypes.memmove(ctypes.addressof(msg) + ctypes.sizeof(IntTypeMsg), TAIL, len(TAIL))
    libc.msgsnd_raw(msqid, msg, len(TEXT), libc.IPC_NOWAIT)
    if ilp32:
        # long is int here: the mistaken struct is the right one, so type 3 and the text arrive
        verdict_note("expected by ABI: long and int have the same size on this ILP32 ABI, so the "
                     "int-typed struct is read as sent (mtype 3, the whole text)")
        mtype, text = libc.msgrcv(msqid, 64, 3, libc.IPC_NOWAIT)
        observe("mtype_received", hex(mtype))
        observe("mtext_received", text.decode())
        assert (mtype, text) == (3, TEXT), (
            f"expected on ILP32 mtype 0x3 and mtext {TEXT!r}, the receiver got {hex(mtype)} and {text!r}")
        return
    fails_with(errno.ENOMSG, libc.msgrcv, msqid, 64, 3, libc.IPC_NOWAIT,
               what="msgrcv(type 3) of the message sent with int mtype 3")
    mtype, text = libc.msgrcv(msqid, 64, 0, libc.IPC_NOWAIT)
    as_long = int.from_bytes(memory.raw[:8], sys.byteorder, signed=True)
    observe("mtype_received", hex(mtype))
    observe("mtext_received", text.decode())
    assert (mtype, text) == (as_long, TEXT[4:] + TAIL), (
        f"expected the receiver to read mtype {hex(as_long)} (int 3 plus {TEXT[:4]!r}) and mtext "
        f"{TEXT[4:] + TAIL!r}, it got {hex(mtype)} and {text!r}")
