"""pthread.rwlock_pshared: a PTHREAD_PROCESS_SHARED read-write lock in MAP_SHARED memory admits a
second process's reader beside this one, refuses or puts to sleep a writer until the readers
unlock, and refuses readers while the writer holds it."""
import pytest

import pthread_helpers
from fixtures import pthread_shared as ps


def _try(call, rw):
    try:
        rc = call(rw)
    except OSError as exc:
        return ps.name(exc.errno)
    ps.rwlock_unlock(rw)
    return ps.name(rc)


def _reader_then_writer(rw):
    """In another process while this one reads: tryrdlock, then trywrlock; each by name."""
    return _try(ps.rwlock_tryrdlock, rw), _try(ps.rwlock_trywrlock, rw)


@pytest.mark.claim("pthread.rwlock_pshared")
def test_readers_share_writer_excluded(objects, spawn, channel, observe):
    """With this process reading, another process's tryrdlock succeeds and trywrlock gives EBUSY; its
    wrlock sleeps until this reader unlocks; while it writes, tryrdlock here gives EBUSY."""
    rw = objects.rwlock()
    ps.rwlock_rdlock(rw)
    second_reader, writer_try = spawn.run(_reader_then_writer, rw, name="second process",
                                          timeout=5).unwrap()
    held, release = channel(), channel()
    writer = spawn(pthread_helpers.hold, ps.rwlock_wrlock, rw, held, release, ps.rwlock_unlock,
                   name="writer")
    writer.wait_blocked("futex", what="writer waiting for the reader")
    ps.rwlock_unlock(rw)
    held.recv(timeout=5, what="writer")
    reader_while_writing = _try(ps.rwlock_tryrdlock, rw)
    release.send("go")
    writer.value(timeout=5)
    seen = {"second reader": second_reader, "trywrlock beside a reader": writer_try,
            "tryrdlock beside the writer": reader_while_writing}
    observe("results", seen)
    expected = {"second reader": "0", "trywrlock beside a reader": "EBUSY",
                "tryrdlock beside the writer": "EBUSY"}
    assert seen == expected, f"expected {expected} across processes, got {seen}"
