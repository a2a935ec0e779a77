"""pthread.mutex_pshared: a PTHREAD_PROCESS_SHARED mutex in MAP_SHARED memory excludes across
processes: a second locker sleeps in futex until the holder unlocks, then gets the mutex."""
import ctypes

import pytest

from fixtures import pthread_shared as ps


def _lock_and_read(mutex, marker):
    """Lock (sleeping while another process holds it), read the marker the holder left, unlock."""
    ps.mutex_lock(mutex)
    seen = ctypes.c_int.from_address(marker).value
    ps.mutex_unlock(mutex)
    return seen


@pytest.mark.claim("pthread.mutex_pshared")
def test_second_process_sleeps_until_unlock(objects, spawn, observe):
    """While this process holds the mutex another process's lock sleeps in futex; it returns once the
    holder unlocks and sees what the holder wrote inside its critical section."""
    observe("getpshared after setpshared(PTHREAD_PROCESS_SHARED)", ps.mutex_pshared())
    mutex = objects.mutex()
    marker = objects.addr + objects.length - 4  # an int in the last bytes of the mapping, past the slots
    ps.mutex_lock(mutex)
    locker = spawn(_lock_and_read, mutex, marker, name="second locker")
    locker.wait_blocked("pthread_mutex_lock", what="second process locking the held mutex")
    ctypes.c_int.from_address(marker).value = 1  # still inside: the locker must not have run
    ps.mutex_unlock(mutex)
    seen = locker.value(timeout=5)
    assert seen == 1, (
        f"expected the second process to get the mutex only after the holder's write (marker 1), it read {seen}")
