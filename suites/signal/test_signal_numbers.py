"""signal.numbers: SIGPIPE is 13 with default action Term; SIGUSR1 is 10 on x86 (numbers are per arch)."""
import os
import select
import signal

import pytest

import sig_helpers as sh

# Kernel ABI numbers by architecture (arch/*/include/uapi/asm/signal.h).
SIGUSR1_BY_ARCH = {"alpha": 30, "sparc": 30, "sparc64": 30, "mips": 16, "mips64": 16,
                   "parisc": 16, "parisc64": 16}
SIGPIPE_NUMBER = 13  # the same on every Linux architecture


def _arch_key(machine):
    for prefix in ("alpha", "sparc64", "sparc", "mips64", "mips", "parisc64", "parisc"):
        if machine.startswith(prefix):
            return prefix
    return machine


def _write_to_readerless_pipe():
    r, w = os.pipe()
    os.close(r)
    os.write(w, b"x")  # default SIGPIPE disposition: the kernel kills us here
    return "write returned"


@pytest.mark.claim("signal.numbers")
def test_sigpipe_is_13_and_terminates(spawn, observe):
    """A write to a pipe without readers kills a default-disposition process with signal number 13."""
    result = spawn.run(_write_to_readerless_pipe, name="writer to a pipe without readers")
    observe("SIGPIPE", result.signal)
    assert result.signal == SIGPIPE_NUMBER, (
        f"expected the kernel to terminate the writer with signal {SIGPIPE_NUMBER} (SIGPIPE), "
        f"the writer {result}")


def _catch_sigusr1(report):
    caught = []
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    signal.signal(signal.SIGUSR1, lambda signum, frame: caught.append(signum))
    report.send(sh.status_mask("SigCgt"))
    select.select([r], [], [], 5)
    return caught


@pytest.mark.claim("signal.numbers")
def test_sigusr1_number(spawn, channel, kernel, observe):
    """The number the arch table gives for SIGUSR1 is the one the kernel marks caught and delivers to it."""
    expected = SIGUSR1_BY_ARCH.get(_arch_key(kernel.arch), 10)
    observe("arch", kernel.arch)
    observe("SIGUSR1", int(signal.SIGUSR1))
    assert signal.SIGUSR1 == expected, (
        f"expected SIGUSR1 to be {expected} on {kernel.arch}, the C library says {int(signal.SIGUSR1)}")
    report = channel()
    child = spawn(_catch_sigusr1, report, name="process catching SIGUSR1")
    caught_mask = report.recv(what="the catching child")
    # SigCgt is a second view of the number (bit N-1 is signal N); gVisor's status has no such line
    assert caught_mask is None or sh.in_mask(caught_mask, expected), (
        f"expected bit {expected} of SigCgt set after catching SIGUSR1, SigCgt is {caught_mask:#x}")
    os.kill(child.pid, expected)  # by number, not by name
    caught = child.value(timeout=5)
    assert caught == [expected], f"expected the SIGUSR1 handler to get signal {expected}, it got {caught}"
