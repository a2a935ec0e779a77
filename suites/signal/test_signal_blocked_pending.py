"""signal.blocked_pending: a blocked signal stays pending until unblocked; an ignored one is discarded."""
from __future__ import annotations

import os
import signal

import pytest

import sig_helpers as sh


def _status_view(seen) -> bool | None:
    """SIGUSR1 in /proc/PID/status's SigPnd|ShdPnd, a second view beside sigpending(); None
    where the file has no such lines (gVisor)."""
    if seen["SigPnd"] is None or seen["ShdPnd"] is None:
        return None
    return sh.in_mask(seen["SigPnd"] | seen["ShdPnd"], signal.SIGUSR1)


def _block_then_unblock(to_parent, to_child):
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])  # default action: terminate
    to_parent.send("blocked")
    to_child.recv(what="the test (signal sent)")
    pending = sorted(int(s) for s in signal.sigpending())
    to_parent.send({"sigpending": pending, "SigPnd": sh.status_mask("SigPnd"),
                    "ShdPnd": sh.status_mask("ShdPnd")})
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR1])  # delivery: we die here
    return "survived the unblock"


@pytest.mark.claim("signal.blocked_pending")
def test_blocked_signal_waits_for_unblock(spawn, channel, observe):
    """SIGUSR1 sent while blocked is pending (not acted on) and kills the process at the unblock."""
    to_parent, to_child = channel(), channel()
    child = spawn(_block_then_unblock, to_parent, to_child, name="process blocking SIGUSR1")
    to_parent.recv(what="the blocking child")
    os.kill(child.pid, signal.SIGUSR1)
    to_child.send("sent")
    seen = to_parent.recv(what="the blocking child")
    observe("pending_while_blocked", seen["sigpending"])
    assert signal.SIGUSR1 in seen["sigpending"] and _status_view(seen) in (True, None), (
        f"expected SIGUSR1 pending while blocked, sigpending() {seen['sigpending']}, "
        f"/proc status SigPnd {seen['SigPnd']}, ShdPnd {seen['ShdPnd']}")
    result = child.result(timeout=5)
    observe("at_unblock", signal.Signals(result.signal).name if result.signal else str(result))
    assert result.signal == signal.SIGUSR1, (
        f"expected the pending SIGUSR1 to be delivered (terminate) at the unblock, the child {result}")


def _ignore_then_restore(to_parent, to_child):
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    to_parent.send("ignoring")
    to_child.recv(what="the test (signal sent)")
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)  # a kept SIGUSR1 would now kill us
    return {"sigpending": sorted(int(s) for s in signal.sigpending()),
            "SigPnd": sh.status_mask("SigPnd"), "ShdPnd": sh.status_mask("ShdPnd")}


@pytest.mark.claim("signal.blocked_pending")
def test_ignored_signal_is_discarded(spawn, channel, observe):
    """SIGUSR1 sent while ignored leaves nothing pending: restoring SIG_DFL afterwards does not kill."""
    to_parent, to_child = channel(), channel()
    child = spawn(_ignore_then_restore, to_parent, to_child, name="process ignoring SIGUSR1")
    to_parent.recv(what="the ignoring child")
    os.kill(child.pid, signal.SIGUSR1)  # kill() returns after the signal was generated (and dropped)
    to_child.send("sent")
    result = child.result(timeout=5)
    assert result.signal is None, f"expected the ignored SIGUSR1 to be discarded, the child {result}"
    seen = result.unwrap()
    observe("pending_after_ignored", seen["sigpending"])
    assert signal.SIGUSR1 not in seen["sigpending"] and _status_view(seen) in (False, None), (
        f"expected no pending SIGUSR1 after it was ignored, sigpending() {seen['sigpending']}, "
        f"/proc status SigPnd {seen['SigPnd']}, ShdPnd {seen['ShdPnd']}")
