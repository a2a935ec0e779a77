"""psem.ops: sem_wait at 0 sleeps until another process posts; sem_trywait at 0 fails with EAGAIN;
sem_post adds 1; sem_getvalue reads the value."""
import errno
import os

import pytest

import psem_helpers as ph
from fixtures import posix_sem as ps
from fixtures.expect import fails_with


@pytest.fixture
def named_sem(ipc):
    """A new named semaphore at 0 (children forked afterwards share its mapping)."""
    name = ipc.adopt_posix("sem", ipc.name())
    sem = ps.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, 0)
    yield sem
    ps.sem_close(sem)


@pytest.mark.claim("psem.ops")
def test_trywait_post_getvalue(named_sem, observe):
    """At 0 sem_trywait fails with EAGAIN; two posts read 2; a trywait then takes it to 1."""
    err = fails_with(errno.EAGAIN, ps.sem_trywait, named_sem, what="sem_trywait at value 0")
    observe("sem_trywait at 0", errno.errorcode[err.errno])
    seen = [ps.sem_getvalue(named_sem)]
    for _ in range(2):
        ps.sem_post(named_sem)
        seen.append(ps.sem_getvalue(named_sem))
    ps.sem_trywait(named_sem)
    seen.append(ps.sem_getvalue(named_sem))
    observe("values: start, post, post, trywait", seen)
    assert seen == [0, 1, 2, 1], (f"expected sem_getvalue to read 0, 1 after a post, 2 after another, "
                                  f"1 after sem_trywait; it read {seen}")


@pytest.mark.claim("psem.ops")
def test_wait_sleeps_until_another_process_posts(named_sem, spawn, observe):
    """A child's sem_wait at 0 sleeps in futex until the parent posts, then returns with the value back at 0."""
    waiter = spawn(ph.wait_once, named_sem, name="sem_wait at 0")
    waiter.wait_blocked("sem_wait", what="sem_wait at 0")
    ps.sem_post(named_sem)
    outcome = waiter.value(timeout=5)
    value = ps.sem_getvalue(named_sem)
    observe("waiter", outcome)
    observe("value after the wake", value)
    assert (outcome, value) == ("returned 0", 0), (
        f"expected the sleeping sem_wait to return 0 after another process's sem_post, taking the "
        f"value back to 0; the waiter {outcome}, value {value}")
