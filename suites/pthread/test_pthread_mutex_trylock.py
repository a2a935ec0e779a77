"""pthread.mutex_trylock: pthread_mutex_trylock on a held mutex returns EBUSY at once, whether this
process or another holds it; on a free mutex it returns 0."""
import errno

import pytest

import pthread_helpers
from fixtures import pthread_shared as ps
from fixtures.expect import fails_with


def _trylock(mutex):
    """In another process: trylock the mutex; its return value by name."""
    try:
        return ps.name(ps.mutex_trylock(mutex))
    except OSError as exc:
        return ps.name(exc.errno)


@pytest.mark.claim("pthread.mutex_trylock")
def test_trylock_held_here_ebusy(objects, observe):
    """trylock of a mutex this process holds returns EBUSY; once unlocked it returns 0."""
    mutex = objects.mutex()
    assert ps.mutex_trylock(mutex) == 0, "expected trylock on a free mutex to return 0"
    err = fails_with(errno.EBUSY, ps.mutex_trylock, mutex, what="pthread_mutex_trylock on a held mutex")
    observe("trylock held", ps.name(err.errno))
    ps.mutex_unlock(mutex)
    assert ps.mutex_trylock(mutex) == 0, "expected trylock to return 0 once the mutex was unlocked"
    ps.mutex_unlock(mutex)


@pytest.mark.claim("pthread.mutex_trylock")
def test_trylock_held_elsewhere_ebusy(objects, spawn, channel, observe):
    """trylock of a process-shared mutex another process holds returns EBUSY at once; after that
    process unlocks, trylock returns 0."""
    mutex = objects.mutex()
    held, release = channel(), channel()
    holder = spawn(pthread_helpers.hold, ps.mutex_lock, mutex, held, release, ps.mutex_unlock,
                   name="holder")
    held.recv(timeout=5, what="holder")
    busy = spawn.run(_trylock, mutex, name="trylocker", timeout=5).unwrap()
    release.send("go")
    holder.value(timeout=5)
    free = ps.name(ps.mutex_trylock(mutex))
    observe("trylock held by another process", busy)
    assert (busy, free) == ("EBUSY", "0"), (
        f"expected trylock EBUSY while another process held the mutex and 0 after it unlocked, got {busy} then {free}")
    ps.mutex_unlock(mutex)
