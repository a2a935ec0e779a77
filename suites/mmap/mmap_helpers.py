"""What the mmap tests share: scratch files to map, and the set-up of a child that is meant to
die of a memory fault with the default disposition (and without leaving a core file)."""
from __future__ import annotations

import ctypes
import resource
import signal

from fixtures import libc, signals
from fixtures.shared_memory import fn

PR_SET_DUMPABLE = 4
_prctl = fn(libc.libc, "prctl", ctypes.c_int, ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
            ctypes.c_ulong, ctypes.c_ulong)


def scratch_file(ipc, data: bytes, size: int = 0) -> str:
    """A new file in the test's own directory holding `data`, padded with zeros to `size`
    bytes; its path."""
    path = ipc.path("mapped")
    with open(path, "wb") as f:
        f.write(data + bytes(max(size - len(data), 0)))
    return path


def default_fault_signals() -> None:
    """In a child: SIGSEGV and SIGBUS back to SIG_DFL (pytest's faulthandler catches them in
    the process it forked from) and no core dump, neither a file nor a core_pattern pipe."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    libc.check(_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE, 0)")
    for sig in (signal.SIGSEGV, signal.SIGBUS):
        signals.sigaction_set(sig, signals.SIG_DFL)

