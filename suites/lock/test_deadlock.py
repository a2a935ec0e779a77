"""lock.deadlock: an F_SETLKW that would complete a deadlock between two processes fails with
EDEADLK instead of sleeping."""
import errno
import os

import pytest

from fixtures.procs import ChildTimeout

from fixtures.libc import errno_name
from fixtures.locks import F_WRLCK, setlk, setlkw
from lock_helpers import HOLD_BOUND, make_file


def _hold_then_want(path, mine, theirs, ready, go):
    """Lock byte `mine`, report it, then on "go" ask with F_SETLKW for byte `theirs`."""
    fd = os.open(path, os.O_RDWR)
    setlk(fd, F_WRLCK, mine, 1)
    ready.send("locked")
    go.recv(HOLD_BOUND, what="the go message")
    try:
        setlkw(fd, F_WRLCK, theirs, 1)
    except OSError as exc:
        # EDEADLK and EDEADLOCK are one number on Linux; name it as fcntl(2) does.
        return "EDEADLK" if exc.errno == errno.EDEADLK else errno_name(exc.errno)
    return "granted"


@pytest.mark.claim("lock.deadlock")
def test_second_waiter_gets_edeadlk(ipc, spawn, channel, observe):
    """A sleeps for B's byte; B then asks for A's byte and gets EDEADLK; A gets B's byte after."""
    path = make_file(ipc.path("locked"))
    ready_a, go_a, ready_b, go_b = channel(), channel(), channel(), channel()
    a = spawn(_hold_then_want, path, 0, 1, ready_a, go_a, name="process A")
    ready_a.recv(what="process A")
    b = spawn(_hold_then_want, path, 1, 0, ready_b, go_b, name="process B")
    ready_b.recv(what="process B")
    go_a.send("go")
    a.wait_blocked("fcntl", what="process A waiting for byte 1")
    go_b.send("go")
    try:
        outcome_b = b.value(timeout=2)
    except ChildTimeout as exc:
        raise AssertionError(f"expected EDEADLK for B's F_SETLKW of byte 0, which closes the "
                             f"A<->B wait cycle; it slept instead ({exc})") from None
    outcome_a = a.value(timeout=2)
    observe("second_waiter", outcome_b)
    observe("first_waiter", outcome_a)
    assert outcome_b == "EDEADLK", (
        f"expected EDEADLK for the request closing the cycle, kernel gave {outcome_b}")
    assert outcome_a == "granted", f"expected A's F_SETLKW to succeed once B exited, got {outcome_a}"
