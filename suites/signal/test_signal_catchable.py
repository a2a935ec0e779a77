"""signal.catchable: SIGCONT, SIGURG, SIGUSR1, SIGUSR2 and SIGTERM reach an installed handler."""
import os
import select
import signal

import pytest

CATCHABLE = [signal.SIGCONT, signal.SIGURG, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM]


def _catch_one(sig, report):
    caught = []
    # The interpreter's C handler (installed by sigaction) writes the signal number to
    # this pipe, so the wait for delivery has no race with the check for it.
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w)
    signal.signal(sig, lambda signum, frame: caught.append(signum))
    report.send("installed")
    ready, _, _ = select.select([r], [], [], 5)
    woke = list(os.read(r, 16)) if ready else []
    return {"caught": caught, "wakeup": woke}


@pytest.mark.claim("signal.catchable")
@pytest.mark.parametrize("sig", CATCHABLE, ids=[s.name for s in CATCHABLE])
def test_handler_runs(spawn, channel, observe, sig):
    """The signal runs the installed handler and the process carries on to return normally."""
    report = channel()
    child = spawn(_catch_one, sig, report, name=f"process catching {sig.name}")
    report.recv(what="the catching child")
    child.signal(sig)
    result = child.result(timeout=5)
    assert result.signal is None, f"expected {sig.name} to be caught, it {result}"
    got = result.unwrap()
    observe("handler_calls", len(got["caught"]))
    assert got["caught"] == [sig] and int(sig) in got["wakeup"], (
        f"expected the handler to run once for {sig.name}, handler saw {got['caught']}, "
        f"signal-handler wakeups {got['wakeup']}")
