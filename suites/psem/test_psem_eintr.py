"""psem.eintr: a caught signal interrupts a sleeping sem_wait with EINTR when its handler was installed
without SA_RESTART; with SA_RESTART the handler runs and sem_wait goes on waiting (signal(7), since
Linux 2.6.22). sem_timedwait under SA_RESTART is recorded beside it."""
import os
import signal

import pytest

import psem_helpers as ph
from fixtures import libc, posix_sem as ps
from fixtures.pipes import read_exactly


def _wait_with_handler(sem, restart, told, timed):
    """sem_wait (or a 5 s sem_timedwait) with a C-level SIGUSR1 handler that writes one byte to `told`
    the moment it runs; what the wait returned."""
    ph.install_c_handler(signal.SIGUSR1, lambda: libc.write(told, b"h"), restart)
    try:
        ps.sem_timedwait(sem, 5) if timed else ps.sem_wait(sem)
    except OSError as exc:
        return libc.errno_name(exc.errno)
    return "returned 0"


def _interrupt(sems, spawn, restart, timed):
    """A child waiting at 0, interrupted once by SIGUSR1: (what its wait returned, the value then)."""
    told_r, told_w = os.pipe()
    call = "sem_timedwait" if timed else "sem_wait"
    waiter = spawn(_wait_with_handler, sems[0], restart, told_w, timed,
                   name=f"{call} with SA_RESTART {'on' if restart else 'off'}")
    os.close(told_w)
    try:
        waiter.wait_blocked("sem_wait", what=call)
        waiter.signal(signal.SIGUSR1)
        read_exactly(told_r, 1, timeout=5, what="the SIGUSR1 handler")
        if restart:
            if not timed:  # the handler has run: a restarted wait is back asleep in futex
                waiter.wait_blocked("sem_wait", what=f"{call} after the handler (SA_RESTART)")
            ps.sem_post(sems[0])  # wakes a restarted wait; one that failed leaves the value at 1
        outcome = waiter.value(timeout=5)
    finally:
        os.close(told_r)
    return outcome, ps.sem_getvalue(sems[0])


# signal(7): sem_wait is among the calls a handler with SA_RESTART restarts (since 2.6.22);
# without SA_RESTART it fails with EINTR. Either way the value is left at 0.
DISPOSITIONS = [pytest.param(False, "EINTR", id="without_SA_RESTART"),
                pytest.param(True, "returned 0", id="with_SA_RESTART")]


@pytest.mark.claim("psem.eintr")
@pytest.mark.parametrize("restart, expected", DISPOSITIONS)
def test_handler_interrupts_sem_wait(restart, expected, spawn, observe):
    """A handler without SA_RESTART makes the sleeping sem_wait fail with EINTR; with it, sem_wait sleeps on."""
    with ps.SemSlots(0) as sems:
        outcome, value = _interrupt(sems, spawn, restart=restart, timed=False)
    observe("sem_wait after the handler", outcome)
    assert (outcome, value) == (expected, 0), (
        f"expected sem_wait interrupted by a handler {'with' if restart else 'without'} SA_RESTART "
        f"to {'be restarted and return 0 at the next sem_post' if restart else 'fail with EINTR'}, "
        f"the value left at 0; it {outcome}, value {value}")


@pytest.mark.claim("psem.eintr")
def test_sem_timedwait_with_sa_restart_is_recorded(spawn, observe, verdict_note):
    """What sem_timedwait does when a handler with SA_RESTART interrupts it: restarted or EINTR (recorded)."""
    with ps.SemSlots(0) as sems:
        outcome, _ = _interrupt(sems, spawn, restart=True, timed=True)
    observe("sem_timedwait interrupted (SA_RESTART)", outcome)
    verdict_note(f"sem_timedwait with SA_RESTART: {'restarted' if outcome == 'returned 0' else outcome}")
    assert outcome in ("returned 0", "EINTR"), (
        f"expected sem_timedwait interrupted by a handler to be restarted or fail with EINTR, it {outcome}")
