"""psem.signal_safe: sem_post may be called from a signal handler: a C-level handler posting while the
interrupted code is still inside a blocking read wakes a process sleeping in sem_wait."""
import os
import signal

import pytest

import psem_helpers as ph
from fixtures import libc, posix_sem as ps


def _post_from_handler(sem, read_end):
    """Sleep in read(2) with a SIGUSR1 handler (SA_RESTART) that calls sem_post; what the read gave."""
    ph.install_c_handler(signal.SIGUSR1, lambda: ps.sem_post(sem), restart=True)
    return libc.read(read_end, 1)  # the handler runs inside this call, which goes on afterwards


@pytest.mark.claim("psem.signal_safe")
def test_post_in_handler_wakes_waiter(spawn, observe):
    """The waiter wakes while the poster is still asleep in the read the signal interrupted."""
    r, w = os.pipe()
    with ps.SemSlots(0) as sems:
        waiter = spawn(ph.wait_once, sems[0], name="sem_wait at 0")
        poster = spawn(_post_from_handler, sems[0], r, name="poster in read()")
        os.close(r)
        try:
            waiter.wait_blocked("sem_wait", what="waiter")
            poster.wait_blocked("read", what="poster")
            poster.signal(signal.SIGUSR1)
            woken = waiter.value(timeout=5)
            # the read has not returned: only the handler can have posted, inside it
            poster.wait_blocked("read", what="poster after its handler ran")
            libc.write(w, b"x")
            read = poster.value(timeout=5)
        finally:
            os.close(w)
        value = ps.sem_getvalue(sems[0])
    observe("waiter", woken)
    observe("poster still in read() when the waiter woke", True)
    assert (woken, read, value) == ("returned 0", b"x", 0), (
        f"expected the post made by the SIGUSR1 handler, while the interrupted read() was still "
        f"waiting, to wake the sem_wait (value back to 0) and the read to go on to get b'x'; the "
        f"waiter {woken}, the read gave {read!r}, value {value}")
