"""signal.dispositions: SIG_DFL is 0, SIG_IGN is 1, SIG_ERR is -1 (C ABI values)."""
import ctypes
import errno
import signal

import pytest

import sig_helpers as sh
from fixtures import signals


def _switch_dispositions():
    seen = {}
    seen["initial"] = sh.signal_raw(signal.SIGUSR1, signals.SIG_IGN)   # previous: SIG_DFL
    seen["kernel_after_ign"] = signals.sigaction_get(signal.SIGUSR1)     # what the kernel stored
    seen["after_ign"] = sh.signal_raw(signal.SIGUSR1, signals.SIG_DFL)  # previous: SIG_IGN
    seen["kernel_after_dfl"] = signals.sigaction_get(signal.SIGUSR1)
    return seen


@pytest.mark.claim("signal.dispositions")
def test_dfl_and_ign_values(spawn, observe):
    """signal() hands back 0 for the default disposition and 1 for an ignored signal, as the kernel stores them."""
    seen = spawn.run(_switch_dispositions).unwrap()
    for name, value in seen.items():
        observe(name, value)
    assert seen == {"initial": 0, "kernel_after_ign": 1, "after_ign": 1, "kernel_after_dfl": 0}, (
        f"expected SIG_DFL=0 and SIG_IGN=1 as previous dispositions and in the kernel, got {seen}")


# The kernel refuses these (libc range-checks 0 and >= NSIG itself, so those would test libc).
INVALID = [(signal.SIGKILL, "SIGKILL"), (signal.SIGSTOP, "SIGSTOP")]


def _signal_error(sig):
    prev = sh.signal_raw(sig, signals.SIG_IGN)
    return prev, ctypes.get_errno()


@pytest.mark.claim("signal.dispositions")
@pytest.mark.parametrize("sig", [s for s, _ in INVALID], ids=[n for _, n in INVALID])
def test_sig_err_value(spawn, observe, sig):
    """signal() on a signal the kernel refuses returns SIG_ERR, the address (void *)-1, with errno EINVAL."""
    prev, err = spawn.run(_signal_error, sig).unwrap()
    observe("returned", prev if prev != sh.SIG_ERR else -1)
    observe("errno", errno.errorcode.get(err, err))
    assert prev == sh.SIG_ERR and err == errno.EINVAL, (
        f"expected signal({sig}, SIG_IGN) to return SIG_ERR ({sh.SIG_ERR:#x}) with EINVAL, "
        f"got {prev:#x} with errno {errno.errorcode.get(err, err)}")
