"""signal.siginfo: the siginfo of a signal carries si_pid, si_uid and si_code SI_USER (kill) or SI_QUEUE (sigqueue)."""
import ctypes
import errno
import os
import signal

import pytest

import sig_helpers as sh
from fixtures import signals


def _receive(sig, to_parent, to_child):
    signal.pthread_sigmask(signal.SIG_BLOCK, [sig])
    to_parent.send("blocked")
    to_child.recv(what="the test (signal sent)")
    return sh.drain([sig])


def _by_kill(pid, sig):
    os.kill(pid, sig)


def _by_sigqueue(pid, sig):
    sh.sigqueue(pid, sig, 7)


CASES = [("kill", _by_kill, signal.SIGUSR1, sh.SI_USER), ("kill_rt", _by_kill, signal.SIGRTMIN, sh.SI_USER),
         ("sigqueue", _by_sigqueue, signal.SIGUSR1, sh.SI_QUEUE),
         ("sigqueue_rt", _by_sigqueue, signal.SIGRTMIN, sh.SI_QUEUE)]


def _send_and_report(pid, sig, send, done):
    send(pid, sig)
    done.send("sent")
    return os.getpid(), os.getuid()


@pytest.mark.claim("signal.siginfo")
@pytest.mark.parametrize("name,send,sig,code", CASES, ids=[c[0] for c in CASES])
def test_sender_identity_and_code(spawn, channel, observe, name, send, sig, code):
    """The receiver's siginfo names the sending process, its real uid and how the signal was sent."""
    to_parent, to_child = channel(), channel()
    receiver = spawn(_receive, sig, to_parent, to_child, name="receiver")
    to_parent.recv(what="the receiver")
    # The sender is a process of its own, so si_pid cannot be confused with the receiver's parent.
    sender_pid, sender_uid = spawn.run(_send_and_report, receiver.pid, sig, send, to_child).unwrap()
    infos = receiver.value(timeout=5)
    assert len(infos) == 1, f"expected one {signal.Signals(sig).name if sig < 32 else sig} pending, got {infos}"
    info = infos[0]
    observe("si_code", info["code"])
    seen = (info["signo"], info["code"], info["pid"], info["uid"])
    assert seen == (sig, code, sender_pid, sender_uid), (
        f"expected (si_signo, si_code, si_pid, si_uid) = {(int(sig), code, sender_pid, sender_uid)}, "
        f"kernel gave {seen}")


def _handle_with_siginfo(sig, to_parent, to_child):
    seen = []

    def handler(signo, info, context):
        # Runs on the signal itself: the main thread sleeps in sigsuspend with the GIL released.
        seen.append(sh.parse_siginfo(ctypes.string_at(info, 128)))

    callback = signals.SIGINFO_HANDLER(handler)
    signal.pthread_sigmask(signal.SIG_BLOCK, [sig])
    signals.sigaction_siginfo(sig, callback)
    to_parent.send("installed")
    to_child.recv(what="the test (signal sent)")
    err = sh.sigsuspend()  # empty mask: the pending signal is delivered to the handler now
    return {"sigsuspend_errno": errno.errorcode.get(err, err), "seen": seen}


@pytest.mark.claim("signal.siginfo")
@pytest.mark.parametrize("name,send,sig,code", CASES, ids=[c[0] for c in CASES])
def test_sa_siginfo_handler(spawn, channel, observe, name, send, sig, code):
    """An SA_SIGINFO handler receives si_signo, si_code, si_pid and si_uid of the sender."""
    if not signals.SA_LAYOUT_KNOWN:
        pytest.skip(f"struct sigaction layout not tabled for {os.uname().machine}; the sigtimedwait test covers the claim")
    to_parent, to_child = channel(), channel()
    receiver = spawn(_handle_with_siginfo, sig, to_parent, to_child, name="receiver with an SA_SIGINFO handler")
    to_parent.recv(what="the receiver")
    sender_pid, sender_uid = spawn.run(_send_and_report, receiver.pid, sig, send, to_child).unwrap()
    got = receiver.value(timeout=5)
    observe("handler_calls", len(got["seen"]))
    assert got["sigsuspend_errno"] == "EINTR" and len(got["seen"]) == 1, (
        f"expected the handler to run once and sigsuspend to return EINTR, got {got}")
    info = got["seen"][0]
    seen = (info["signo"], info["code"], info["pid"], info["uid"])
    assert seen == (sig, code, sender_pid, sender_uid), (
        f"expected the handler's (si_signo, si_code, si_pid, si_uid) = {(int(sig), code, sender_pid, sender_uid)}, "
        f"it got {seen}")


def _send_with_other_real_uid(pid, sig, done, uid):
    os.setresuid(uid, 0, 0)  # real uid: the second user; effective and saved: still root
    os.kill(pid, sig)
    done.send("sent")
    return os.getpid(), os.getuid(), os.geteuid()


@pytest.mark.claim("signal.siginfo")
def test_si_uid_is_the_real_uid(spawn, channel, privilege, observe):
    """A sender whose real uid differs from its effective uid is named in si_uid by its real uid."""
    privilege.require_switch()
    uid, _ = privilege.second_user
    to_parent, to_child = channel(), channel()
    receiver = spawn(_receive, signal.SIGUSR1, to_parent, to_child, name="receiver")
    to_parent.recv(what="the receiver")
    pid, ruid, euid = spawn.run(_send_with_other_real_uid, receiver.pid, signal.SIGUSR1, to_child,
                                uid, name="sender with ruid != euid").unwrap()
    (info,) = receiver.value(timeout=5)
    observe("sender_ids", {"ruid": ruid, "euid": euid, "si_uid": info["uid"]}, run_specific=False)
    assert (info["pid"], info["uid"]) == (pid, ruid) and ruid != euid, (
        f"expected si_pid {pid} and si_uid = the sender's real uid {ruid} (effective {euid}), "
        f"kernel gave si_pid {info['pid']}, si_uid {info['uid']}")
