"""signal.sigchld.zombie, signal.sigchld.ign: a dead child is a zombie until waited for, unless SIGCHLD is ignored."""
import errno
import os
import signal

import pytest

import sig_helpers as sh
from fixtures import signals
from fixtures.expect import fails_with
from fixtures.procs import poll_until, proc_state


def _fork_exiting_child():
    """A grandchild that exits at once with status 7 (it shares our process group)."""
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    return pid


def _zombie_until_waited():
    child = _fork_exiting_child()
    became_zombie = poll_until(lambda: proc_state(child) == "Z", 5)
    seen = {"state_before_wait": proc_state(child),
            "SIGCHLD_disposition": sh.disposition(signal.SIGCHLD),
            "became_zombie": became_zombie}
    # Still here after the SIGCHLD: its default action did not terminate us.
    pid, status = sh.waitpid(child)
    seen["waited_status"] = os.waitstatus_to_exitcode(status)
    seen["state_after_wait"] = proc_state(child)
    return seen


@pytest.mark.claim("signal.sigchld.zombie")
def test_zombie_until_waited(spawn, observe):
    """The exited child is in state Z until waitpid collects status 7, then it is gone; the parent survives SIGCHLD."""
    result = spawn.run(_zombie_until_waited, name="parent with default SIGCHLD")
    assert result.signal is None, f"expected SIGCHLD's default action to leave the parent running, it {result}"
    seen = result.unwrap()
    for key, value in seen.items():
        observe(key, value)
    assert seen["SIGCHLD_disposition"] == "default", (
        f"the parent must have SIGCHLD at SIG_DFL for this test, the kernel says {seen}")
    assert seen["became_zombie"] and seen["state_before_wait"] == "Z", (
        f"expected the exited child to stay a zombie (Z) until waited for, state {seen['state_before_wait']}")
    assert seen["waited_status"] == 7 and seen["state_after_wait"] is None, (
        f"expected waitpid to collect exit status 7 and remove the zombie, got status "
        f"{seen['waited_status']}, state afterwards {seen['state_after_wait']}")


def _reaped_automatically(how):
    if how == "signal":
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    else:
        signals.sigaction_set(signal.SIGCHLD, signals.SIG_IGN)
    child = _fork_exiting_child()
    # waitpid sleeps until the child has ended and then, with nothing to report, fails.
    fails_with(errno.ECHILD, sh.waitpid, child, what="waitpid on a child with SIGCHLD ignored")
    # The kernel may still be releasing the reaped task (state X, "dead") for a moment:
    # what must never be seen is a zombie, and the entry must go away by itself.
    states = set()

    def released():
        state = proc_state(child)
        states.add(state)
        return state is None

    gone = poll_until(released, 2)
    return {"states_seen": sorted(s for s in states if s), "gone": gone, "errno": "ECHILD"}


@pytest.mark.claim("signal.sigchld.ign")
@pytest.mark.parametrize("how", ["signal", "sigaction"])
def test_ignored_sigchld_reaps(spawn, observe, how):
    """With SIGCHLD at SIG_IGN, waitpid fails with ECHILD and no zombie of the child remains."""
    seen = spawn.run(_reaped_automatically, how, name="parent ignoring SIGCHLD").unwrap()
    observe("errno", seen["errno"])
    observe("zombie_seen", "Z" in seen["states_seen"])
    assert "Z" not in seen["states_seen"] and seen["gone"], (
        f"expected the child reaped without a zombie after ECHILD, /proc showed states "
        f"{seen['states_seen']} and the entry {'went' if seen['gone'] else 'stayed'}")
