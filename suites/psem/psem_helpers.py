"""What the POSIX semaphore tests share: a C-level signal handler, and
the children that wait on a semaphore. The calls themselves are in fixtures.posix_sem."""
from __future__ import annotations

import ctypes

from fixtures import libc, posix_sem as ps, signals

_INSTALLED: dict[int, object] = {}  # the C handlers in place, kept alive while the kernel may call them


def install_c_handler(sig: int, action, restart: bool) -> None:
    """sigaction(sig) to a C function pointer that calls action() when the signal is delivered,
    whatever the interrupted code is doing (Python's own handlers only set a flag there and
    run later, between bytecodes, after the interrupted call has returned). The C function is a
    ctypes callback: it takes the GIL, so send the signal only while the process sleeps in a
    foreign call (proved with wait_blocked), which has released it."""
    handler = signals.HANDLER(lambda signum: action())
    _INSTALLED[sig] = handler
    signals.sigaction_set(sig, ctypes.cast(handler, ctypes.c_void_p).value,
                          signals.SA_RESTART if restart else 0)


def wait_once(sem: int) -> str:
    """sem_wait once; 'returned 0' or the errno name it failed with."""
    try:
        ps.sem_wait(sem)
    except OSError as exc:
        return libc.errno_name(exc.errno)
    return "returned 0"
