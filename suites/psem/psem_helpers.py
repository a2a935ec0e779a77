"""What the POSIX semaphore tests share: the futex probe, a C-level signal handler, and
the children that wait on a semaphore. The calls themselves are in fixtures.posix_sem."""
from __future__ import annotations

import ctypes

from fixtures import abi, libc, posix_sem as ps, signals, syscalls
from fixtures.shared_memory import fn

FUTEX_WAKE = 1
_syscall = fn(libc.libc, "syscall", ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_int,
              ctypes.c_int)


def futex_probe() -> None:
    """futex(&word, FUTEX_WAKE, 1) on a private word: 0 woken, ENOSYS without CONFIG_FUTEX."""
    table = syscalls.SYSCALLS.get(syscalls.TABLE_OF_ABI.get(abi.process_abi(), ""), {})
    if "futex" not in table:
        return  # untabled ABI: the semaphore calls themselves will tell
    word = ctypes.c_int(0)
    libc.check(_syscall(table["futex"], ctypes.addressof(word), FUTEX_WAKE, 1),
               "futex(FUTEX_WAKE)")


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
