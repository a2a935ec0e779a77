"""sysvmsg.eintr: a caught signal makes a blocked msgsnd/msgrcv fail with EINTR, SA_RESTART or not."""
import signal

import pytest

import sysvmsg_helpers as mq
from fixtures import libc, signals

HANDLERS = {"sa_restart": False, "no_sa_restart": True}  # the siginterrupt() flag


def caught(signum, frame):
    caught.count += 1


def call_with_handler(interrupt, call, msqid):
    """Catch SIGUSR1 (siginterrupt(False) installs the handler with SA_RESTART), then block in call."""
    caught.count = 0
    signal.signal(signal.SIGUSR1, caught)
    signal.siginterrupt(signal.SIGUSR1, interrupt)
    restart = bool(signals.sa_flags(signal.SIGUSR1) & signals.SA_RESTART)
    try:
        call(msqid)
    except OSError as exc:
        return libc.errno_name(exc.errno), caught.count, restart
    return "no error", caught.count, restart


@pytest.mark.claim("sysvmsg.eintr")
@pytest.mark.parametrize("interrupt", HANDLERS.values(), ids=HANDLERS.keys())
@pytest.mark.parametrize("syscall", mq.BLOCKING)
def test_signal_interrupts(ipc, spawn, observe, syscall, interrupt):
    """SIGUSR1, caught by a handler, ends the child's blocked call with EINTR instead of restarting it."""
    msqid = ipc.msgq()
    child = spawn(call_with_handler, interrupt, mq.BLOCKING[syscall], msqid, name=f"{syscall} caller")
    child.wait_blocked(syscall, what=f"{syscall} caller with a SIGUSR1 handler")
    child.signal(signal.SIGUSR1)
    err, handled, restart = child.value(timeout=2)
    observe("errno", err)
    observe("SA_RESTART", restart)
    if restart == interrupt:  # the test's own setup went wrong, not the kernel: an error
        raise RuntimeError(f"the child's handler was meant to have SA_RESTART={not interrupt}, "
                           f"sigaction says {restart}")
    assert (err, handled) == ("EINTR", 1), (
        f"expected the caught SIGUSR1 to end the blocked {syscall} with EINTR "
        f"({'SA_RESTART' if restart else 'no SA_RESTART'}), the call ended with {err}, handler ran {handled}x")
