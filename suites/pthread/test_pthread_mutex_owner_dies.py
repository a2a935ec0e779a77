"""pthread.mutex_owner_dies (the source: "no way to release a mutex held by a process that died"):
true of an ordinary process-shared mutex, whose waiter sleeps on and which trylock finds busy;
a robust mutex gives the next locker (or the waiter already asleep) EOWNERDEAD with the lock,
pthread_mutex_consistent makes it usable, and without it the mutex is ENOTRECOVERABLE."""
import errno

import pytest

import pthread_helpers
from fixtures import pthread_shared as ps
from fixtures.expect import fails_with
from fixtures.procs import ChildTimeout

STILL_ASLEEP = 0.2  # seconds the waiter must go on sleeping once proved asleep (a bound, not a wait for an event)


def _die_holding(mutex):
    """Lock the mutex and exit still holding it."""
    ps.mutex_lock(mutex)
    return "exiting with the mutex held"


def _owner_died_before(spawn, mutex):
    assert spawn.run(_die_holding, mutex, name="owner", timeout=5).unwrap() == "exiting with the mutex held"


def _lock(mutex):
    return ps.name(ps.mutex_lock(mutex, allow=(errno.EOWNERDEAD,)))


@pytest.mark.claim("pthread.mutex_owner_dies")
def test_ordinary_mutex_stays_locked(objects, spawn, observe):
    """After its owner exits holding it, an ordinary mutex's waiter sleeps in futex and is still
    asleep after a bound, and trylock gives EBUSY: nothing releases it."""
    mutex = objects.mutex()
    _owner_died_before(spawn, mutex)
    waiter = spawn(_lock, mutex, name="waiter for a dead owner's ordinary mutex")
    waiter.wait_blocked("pthread_mutex_lock", what="waiter for a dead owner's ordinary mutex")
    try:
        ended = waiter.result(timeout=STILL_ASLEEP)
    except ChildTimeout:
        ended = None
    observe(f"waiter still asleep after {STILL_ASLEEP}s", ended is None)
    assert ended is None, f"expected the waiter to sleep on, nothing releasing the mutex; the waiter {ended}"
    err = fails_with(errno.EBUSY, ps.mutex_trylock, mutex,
                     what="pthread_mutex_trylock on the dead owner's ordinary mutex")
    observe("trylock", ps.name(err.errno))


def _lock_recover(mutex, make_consistent):
    """Lock a robust mutex whose owner died; make it consistent (or not), unlock, lock again."""
    first = _lock(mutex)
    if first == "EOWNERDEAD" and make_consistent:
        ps.mutex_consistent(mutex)
    ps.mutex_unlock(mutex)
    try:
        again = _lock(mutex)
        ps.mutex_unlock(mutex)
    except OSError as exc:
        again = ps.name(exc.errno)
    return first, again


@pytest.mark.claim("pthread.mutex_owner_dies")
@pytest.mark.parametrize("make_consistent, expected", [(True, ("EOWNERDEAD", "0")),
                                                       (False, ("EOWNERDEAD", "ENOTRECOVERABLE"))],
                         ids=["consistent", "not_consistent"])
def test_robust_mutex_eownerdead(make_consistent, expected, objects, spawn, observe):
    """The next locker of a robust mutex whose owner exited holding it gets EOWNERDEAD and the lock;
    made consistent it locks normally again, left inconsistent it becomes ENOTRECOVERABLE."""
    mutex = objects.mutex(robust=True)
    _owner_died_before(spawn, mutex)
    got = spawn.run(_lock_recover, mutex, make_consistent, name="next locker", timeout=5).unwrap()
    observe("lock, then lock after unlock", list(got))
    assert got == expected, (
        f"expected {expected[0]} on the first lock and {expected[1]} after unlock "
        f"{'with' if make_consistent else 'without'} pthread_mutex_consistent, got {got}")


@pytest.mark.claim("pthread.mutex_owner_dies")
def test_robust_waiter_woken_by_owner_death(objects, spawn, channel, observe):
    """A waiter asleep on a robust mutex is woken with EOWNERDEAD when the owner is killed, and after
    pthread_mutex_consistent the mutex locks normally."""
    mutex = objects.mutex(robust=True)
    held = channel()
    owner = spawn(pthread_helpers.hold, ps.mutex_lock, mutex, held, channel(), name="owner")
    held.recv(timeout=5, what="owner")
    waiter = spawn(_lock_recover, mutex, True, name="waiter on a robust mutex")
    waiter.wait_blocked("pthread_mutex_lock", what="waiter on the owner's robust mutex")
    owner.kill()  # SIGKILL while holding it
    got = waiter.value(timeout=5)
    observe("waiter's lock, then lock after consistent", list(got))
    assert got == ("EOWNERDEAD", "0"), (
        f"expected the sleeping waiter woken with EOWNERDEAD, and 0 after consistent; got {got}")
