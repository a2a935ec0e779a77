"""signal.standard_no_queue, signal.rt.queue, signal.rt.count: standard signals merge, real-time signals queue."""
import os
import signal

import pytest

import sig_helpers as sh

RTSIG_MAX = 8  # POSIX minimum for _POSIX_RTSIG_MAX


def _collect(signals, to_parent, to_child):
    """Block `signals`, let the parent send, then drain what the kernel kept pending."""
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    to_parent.send("blocked")
    to_child.recv(what="the test (signals sent)")
    return [(i["signo"], i["code"], i["value"]) for i in sh.drain(signals)]


def _send_kill(pid, sig, value):
    os.kill(pid, sig)


def _send_sigqueue(pid, sig, value):
    sh.sigqueue(pid, sig, value)


SENDERS = [_send_kill, _send_sigqueue]


def _run(spawn, channel, signals, sends, sender):
    to_parent, to_child = channel(), channel()
    child = spawn(_collect, signals, to_parent, to_child, name="receiver with the signals blocked")
    to_parent.recv(what="the receiver")
    for sig, value in sends:
        sender(child.pid, sig, value)
    to_child.send("sent")
    return child.value(timeout=5)


@pytest.mark.claim("signal.standard_no_queue")
@pytest.mark.parametrize("sender", SENDERS, ids=["kill", "sigqueue"])
def test_standard_signal_delivered_once(spawn, channel, observe, sender):
    """Three SIGUSR1 sent while it is blocked leave one pending instance."""
    got = _run(spawn, channel, [signal.SIGUSR1], [(signal.SIGUSR1, n) for n in (1, 2, 3)], sender)
    observe("sent", 3)
    observe("delivered", len(got))
    assert len(got) == 1, f"expected 3 blocked SIGUSR1 to be delivered once, the kernel delivered {len(got)}: {got}"


@pytest.mark.claim("signal.rt.queue")
def test_rt_signals_queue_with_values_lowest_first(spawn, channel, observe):
    """Queued SIGRTMIN+1, SIGRTMIN+1, SIGRTMIN come out as SIGRTMIN first, then both SIGRTMIN+1 in order, values intact."""
    lo, hi = signal.SIGRTMIN, signal.SIGRTMIN + 1
    sends = [(hi, 101), (hi, 102), (lo, 201)]
    got = _run(spawn, channel, [lo, hi], sends, _send_sigqueue)
    observe("delivery_order", [[s, v] for s, _, v in got])
    expected = [(lo, sh.SI_QUEUE, 201), (hi, sh.SI_QUEUE, 101), (hi, sh.SI_QUEUE, 102)]
    assert got == expected, (f"expected (signo, si_code, value) {expected}: every instance queued, lowest "
                             f"signal first, values carried; the kernel delivered {got}")


def _every_rt_signal():
    rt = list(range(signal.SIGRTMIN, signal.SIGRTMAX + 1))
    signal.pthread_sigmask(signal.SIG_BLOCK, rt)
    for n, sig in enumerate(rt):
        sh.sigqueue(os.getpid(), sig, 1000 + n)
    return [(i["signo"], i["value"]) for i in sh.drain(rt)]


@pytest.mark.claim("signal.rt.count")
def test_at_least_rtsig_max_realtime_signals(spawn, observe):
    """SIGRTMIN..SIGRTMAX span at least 8 signals and the kernel queues and hands back each one."""
    count = signal.SIGRTMAX - signal.SIGRTMIN + 1
    observe("SIGRTMIN", int(signal.SIGRTMIN))
    observe("SIGRTMAX", int(signal.SIGRTMAX))
    observe("count", count)
    observe("sysconf_RTSIG_MAX", os.sysconf("SC_RTSIG_MAX"))
    assert count >= RTSIG_MAX, f"expected at least {RTSIG_MAX} real-time signals, SIGRTMIN..SIGRTMAX has {count}"
    got = spawn.run(_every_rt_signal).unwrap()
    expected = [(sig, 1000 + n) for n, sig in enumerate(range(signal.SIGRTMIN, signal.SIGRTMAX + 1))]
    assert got == expected, f"expected each real-time signal queued and received once, in order, got {got}"
