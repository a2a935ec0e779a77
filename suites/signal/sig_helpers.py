"""Signal calls the os/signal modules do not expose faithfully, through libc with errno.

Kept in the signal suite (not fixtures/): signal() with raw dispositions,
sigqueue with a value, sigtimedwait returning the kernel's whole siginfo
(si_value included), sigsuspend and /proc/PID/status signal masks. sigaction
itself is fixtures.signals.

The module name is unique on purpose: test directories are rootdir-relative
imports without packages, so a generic "_helpers" would collide with another suite's.
"""
from __future__ import annotations

import ctypes

from fixtures import libc as lc
from fixtures import simulate
from fixtures.signals import SIG_DFL, SIG_IGN, parse_siginfo, sigaction_get, sigset, sigtimedwait  # noqa: F401 - the suite's tests use them through this module

libc = lc.libc
c_int, c_void_p = ctypes.c_int, ctypes.c_void_p

SIG_ERR = ctypes.c_void_p(-1).value  # (void *)-1 as an address
SI_USER = 0
SI_QUEUE = -1


class SigVal(ctypes.Union):
    _fields_ = [("sival_int", c_int), ("sival_ptr", c_void_p)]


_signal = lc._fn("signal", c_void_p, c_int, c_void_p)
_sigemptyset = lc._fn("sigemptyset", c_int, c_void_p)
_sigaddset = lc._fn("sigaddset", c_int, c_void_p, c_int)
_kill = lc._fn("kill", c_int, c_int, c_int)
_waitpid = lc._fn("waitpid", c_int, c_int, ctypes.POINTER(c_int), c_int)
try:
    _sigqueue = lc._fn("sigqueue", c_int, c_int, c_int, SigVal)
except TypeError:  # a ctypes that cannot pass a union by value: same ABI as a pointer-sized word
    _sigqueue = lc._fn("sigqueue", c_int, c_int, c_int, c_void_p)


def signal_raw(sig: int, handler: int) -> int:
    """libc signal(sig, handler) with the handler as a number; returns the previous one as a number.

    SIG_ERR comes back as (void *)-1; errno is then set (read it with ctypes.get_errno())."""
    ctypes.set_errno(0)
    prev = _signal(sig, handler)
    return 0 if prev is None else prev


def sigqueue(pid: int, sig: int, value: int) -> None:
    """sigqueue(3): the kernel's rt_sigqueueinfo with si_code SI_QUEUE and si_value = value."""
    arg = SigVal(sival_ptr=value) if _sigqueue.argtypes[2] is SigVal else value
    lc.check(_sigqueue(pid, sig, arg), f"sigqueue({pid}, {sig})")


def kill(pid: int, sig: int) -> None:
    lc.check(_kill(pid, sig), f"kill({pid}, {sig})")


def waitpid(pid: int, options: int = 0) -> tuple[int, int]:
    """waitpid(2) once: no EINTR retry, the real errno (os.waitpid folds ECHILD into ChildProcessError)."""
    status = c_int(0)
    got = lc.check(_waitpid(pid, ctypes.byref(status), options), f"waitpid({pid})")
    return got, status.value


def drain(signals) -> list[dict]:
    """Every pending instance of `signals`, in the order the kernel hands them out."""
    out = []
    while (info := sigtimedwait(signals)) is not None:
        out.append(info)
        if len(out) > 1000:
            raise AssertionError("more than 1000 pending signals: the kernel keeps handing them out")
    return out


def status_mask(field: str, pid: int | str = "self") -> int | None:
    """A signal mask line of /proc/PID/status (SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt) as an int,
    None where the file has no such line (gVisor) or cannot be read: a second view, never the
    only one."""
    if simulate.missing("status-signals"):
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return None


def disposition(sig: int) -> str:
    """'caught', 'ignored' or 'default' for this process, as the kernel reports it: SigCgt and
    SigIgn of /proc/self/status where they exist, else sigaction(2)'s old action."""
    cgt, ign = status_mask("SigCgt"), status_mask("SigIgn")
    if cgt is not None and ign is not None:
        return "caught" if in_mask(cgt, sig) else "ignored" if in_mask(ign, sig) else "default"
    handler = sigaction_get(sig)
    return {SIG_DFL: "default", SIG_IGN: "ignored"}.get(handler, "caught")


def in_mask(mask: int, sig: int) -> bool:
    return bool(mask >> (sig - 1) & 1)


_sigsuspend = lc._fn("sigsuspend", c_int, c_void_p)


def sigsuspend(*blocked: int) -> int:
    """sigsuspend(2) with `blocked` as the temporary mask; returns the errno (EINTR after a handler)."""
    _sigsuspend(sigset(*blocked))
    return ctypes.get_errno()
