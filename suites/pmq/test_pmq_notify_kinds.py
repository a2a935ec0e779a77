"""pmq.notify.kinds: SIGEV_SIGNAL delivers a signal; SIGEV_THREAD runs a function in a new thread."""
import os
import select
import signal
import struct
import threading

import pytest

from fixtures import mqueue
from pmq_helpers import NOTIFY_SIGNAL, Notifiee


@pytest.mark.claim("pmq.notify.kinds")
def test_sigev_signal(mq, spawn, channel, observe):
    """The chosen signal arrives with si_code SI_MESGQ, the sending process's pid and uid, and the sigev_value given."""
    q = mq.create(1, 16)
    notifiee = Notifiee(spawn, channel, q.name, value=0x1234)
    q.send(b"hello")
    got = notifiee.notifications(wait=2.0)
    observe("signal", f"SIGRTMIN+{NOTIFY_SIGNAL - signal.SIGRTMIN}")
    observe("si_code", {mqueue.SI_MESGQ: "SI_MESGQ"}.get(got[0]["si_code"], got[0]["si_code"]) if got else None)
    want = [{"si_code": mqueue.SI_MESGQ, "si_pid": os.getpid(), "si_uid": os.getuid(),
             "si_value": 0x1234}]
    assert got == want, (f"expected one signal {NOTIFY_SIGNAL} with si_code SI_MESGQ ({mqueue.SI_MESGQ}) "
                         f"from the sender (pid {os.getpid()}, uid {os.getuid()}) carrying sigev_value "
                         f"0x1234, got {got}")


def _thread_notified(name, value, report):
    """Child: SIGEV_THREAD registration; returns (main thread id, callback thread id, value seen)."""
    r, w = os.pipe()

    def callback(sigval):
        os.write(w, struct.pack("=qq", threading.get_native_id(), sigval or 0))

    function = mqueue.NOTIFY_FUNCTION(callback)  # referenced until the child returns
    mqd = mqueue.mq_open(name, os.O_RDONLY)
    mqueue.mq_notify(mqd, mqueue.sigevent_thread(function, value))
    report.send("registered")
    ready, _, _ = select.select([r], [], [], 5)
    if not ready:
        return threading.get_native_id(), None, None
    tid, seen = struct.unpack("=qq", os.read(r, 16))
    return threading.get_native_id(), tid, seen


@pytest.mark.claim("pmq.notify.kinds")
def test_sigev_thread(mq, spawn, channel, observe):
    """The function runs, with its sigev_value, in a thread other than the registering one."""
    q = mq.create(1, 16)
    report = channel()
    child = spawn(_thread_notified, q.name, 0x5678, report, name="SIGEV_THREAD registrant")
    report.recv(timeout=5, what="the SIGEV_THREAD registrant")
    q.send(b"hello")
    main, tid, value = child.value(timeout=10)
    observe("function ran", tid is not None)
    observe("in a new thread", tid is not None and tid != main)
    assert tid is not None, "expected the SIGEV_THREAD function to run within 5 s of the message, it never ran"
    assert (tid != main, value) == (True, 0x5678), (
        f"expected the function in a new thread (not {main}) with sigev_value 0x5678; it ran in "
        f"thread {tid} with {value:#x}")
