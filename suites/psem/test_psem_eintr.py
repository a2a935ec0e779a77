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


@pytest.mark.claim("psem.eintr")
def test_handler_without_sa_restart_interrupts(spawn, observe):
    """A handler installed without SA_RESTART makes the sleeping sem_wait fail with EINTR, value still 0."""
    with ps.SemSlots(0) as sems:
        outcome, value = _interrupt(sems, spawn, restart=False, timed=False)
    observe("sem_wait interrupted (no SA_RESTART)", outcome)
    assert (outcome, value) == ("EINTR", 0), (
        f"expected sem_wait to fail with EINTR when a handler without SA_RESTART ran, leaving the "
        f"value at 0; it {outcome}, value {value}")


@pytest.mark.claim("psem.eintr")
def test_handler_with_sa_restart_goes_on_waiting(spawn, observe):
    """With SA_RESTART the handler runs, sem_wait sleeps on and returns 0 at the next post."""
    with ps.SemSlots(0) as sems:
        outcome, value = _interrupt(sems, spawn, restart=True, timed=False)
    observe("sem_wait interrupted (SA_RESTART)", outcome)
    assert (outcome, value) == ("returned 0", 0), (
        f"expected sem_wait to be restarted after a handler with SA_RESTART (signal(7), since "
        f"2.6.22) and to return 0 at the next sem_post; it {outcome}, value {value}")


@pytest.mark.claim("psem.eintr")
def test_sem_timedwait_with_sa_restart_is_recorded(spawn, observe, verdict_note):
    """What sem_timedwait does when a handler with SA_RESTART interrupts it: restarted or EINTR (recorded)."""
    with ps.SemSlots(0) as sems:
        outcome, _ = _interrupt(sems, spawn, restart=True, timed=True)
    observe("sem_timedwait interrupted (SA_RESTART)", outcome)
    verdict_note(f"sem_timedwait with SA_RESTART: {'restarted' if outcome == 'returned 0' else outcome}")
    assert outcome in ("returned 0", "EINTR"), (
        f"expected sem_timedwait interrupted by a handler to be restarted or fail with EINTR, it {outcome}")
