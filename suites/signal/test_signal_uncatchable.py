"""signal.kill_stop.uncatchable: SIGKILL and SIGSTOP cannot be caught, ignored or blocked."""
import ctypes
import errno
import signal

import pytest

from fixtures import signals
from fixtures.expect import fails_with
from fixtures.procs import poll_until

# A real function address for the "catch" case: the kernel refuses before it would ever call it.
_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int)
_handler = _HANDLER_TYPE(lambda sig: None)
HANDLER = ctypes.cast(_handler, ctypes.c_void_p).value

UNCATCHABLE = [signal.SIGKILL, signal.SIGSTOP]
ACTIONS = [("ignore", signals.SIG_IGN), ("catch", HANDLER), ("default", signals.SIG_DFL)]


@pytest.mark.claim("signal.kill_stop.uncatchable")
@pytest.mark.parametrize("sig", UNCATCHABLE, ids=["SIGKILL", "SIGSTOP"])
@pytest.mark.parametrize("action", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_sigaction_refused(spawn, observe, sig, action):
    """sigaction() installing any action for SIGKILL or SIGSTOP fails with EINVAL."""
    name, handler = action

    def install():
        fails_with(errno.EINVAL, signals.sigaction_set, sig, handler,
                   what=f"sigaction({signal.Signals(sig).name}, {name})")
        return signals.sigaction_get(sig)

    still = spawn.run(install).unwrap()
    observe("disposition_after", still)
    assert still == signals.SIG_DFL, (f"{signal.Signals(sig).name} must keep SIG_DFL after the refused "
                                 f"sigaction, kernel reports handler {still:#x}")


def _block_all_then_wait(report):
    everything = set(signal.valid_signals())
    signal.pthread_sigmask(signal.SIG_BLOCK, everything)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    report.send(sorted(int(s) for s in mask))
    signal.sigtimedwait([signal.SIGUSR1], 30)  # sleeps until killed; SIGUSR1 never comes
    return "survived"


@pytest.mark.claim("signal.kill_stop.uncatchable")
def test_blocking_has_no_effect(spawn, channel, observe):
    """A process that blocks every signal has SIGKILL/SIGSTOP left out of its mask and dies of SIGKILL."""
    report = channel()
    child = spawn(_block_all_then_wait, report, name="process blocking every signal")
    mask = set(report.recv(what="the blocking child"))
    observe("blocked_count", len(mask))
    assert signal.SIGKILL not in mask and signal.SIGSTOP not in mask, (
        f"expected the kernel to drop SIGKILL and SIGSTOP from the blocked mask, mask holds "
        f"{sorted(signal.Signals(s).name for s in mask & set(UNCATCHABLE))}")
    child.wait_blocked("rt_sigtimedwait", what="the blocking child")
    child.signal(signal.SIGSTOP)
    stopped = poll_until(lambda: child.state() == "T", 5)
    observe("stopped_by_SIGSTOP", stopped)
    assert stopped, (f"expected SIGSTOP to stop a process that blocked everything, "
                     f"child state stayed {child.state()}")
    child.signal(signal.SIGKILL)
    result = child.result(timeout=5)
    observe("terminated_by", signal.Signals(result.signal).name if result.signal else None)
    assert result.signal == signal.SIGKILL, (
        f"expected SIGKILL to kill a process that blocked everything, child {result}")
