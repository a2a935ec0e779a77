"""signal.kill.eperm: an unprivileged process signalling another user's process gets EPERM."""
import errno
import os
import signal

import pytest

from fixtures.expect import fails_with
from fixtures.verdict import Undecided


def _wait_forever():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
    signal.sigwait([signal.SIGUSR2])  # the test ends it with SIGKILL at teardown


def _send(target, sig):
    fails_with(errno.EPERM, os.kill, target, sig,
               what=f"kill({target}, {sig}) from uid {os.getuid()} to another user's process")
    return "EPERM"


def _uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise Undecided(f"/proc/{pid}/status has no Uid line: cannot tell the target's uid")


@pytest.mark.claim("signal.kill.eperm")
@pytest.mark.parametrize("sig", [0, signal.SIGUSR1, signal.SIGTERM], ids=["probe0", "SIGUSR1", "SIGTERM"])
def test_other_users_process(spawn, privilege, observe, sig):
    """A child dropped to a second uid cannot signal a process of ours; the target lives on."""
    privilege.require_switch()
    target = spawn(_wait_forever, name="target owned by the suite's uid")
    target.wait_blocked("rt_sigtimedwait", what="target")
    sender = privilege.run_as(_send, target.pid, int(sig))
    observe("errno", sender.unwrap())
    assert target.alive(), f"the target must survive the refused kill, it {target.result(1)}"


@pytest.mark.claim("signal.kill.eperm")
def test_pid1_of_another_user(privilege, observe):
    """Unprivileged (no CAP_KILL), probing pid 1 owned by another uid with signal 0 fails with EPERM."""
    if privilege.has("CAP_KILL"):
        pytest.skip("this process holds CAP_KILL, which may signal anyone; the two-uid test covers it")
    uids = _uid_of(1)
    observe("pid1_uids", uids)
    me = os.getuid(), os.geteuid()
    if any(u in (uids[0], uids[2]) for u in me):
        pytest.skip("pid 1 runs as this user (a container?): no process of another uid to probe")
    observe("errno", _send(1, 0))  # signal 0: permission check only, nothing is delivered
