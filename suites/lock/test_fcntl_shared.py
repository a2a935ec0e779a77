"""lock.fcntl.shared: read locks are shared between processes; a write lock excludes every
other process's read and write locks, and a read lock excludes other processes' write locks."""
import pytest

from fixtures.locks import F_RDLCK, F_WRLCK, TYPE_NAMES
from lock_helpers import hold_fcntl_lock, is_refusal, make_file, try_setlk

CASES = [
    (F_RDLCK, F_RDLCK, True),
    (F_RDLCK, F_WRLCK, False),
    (F_WRLCK, F_RDLCK, False),
    (F_WRLCK, F_WRLCK, False),
]
IDS = ["read-then-read", "read-then-write", "write-then-read", "write-then-write"]


@pytest.mark.claim("lock.fcntl.shared")
@pytest.mark.parametrize("held, wanted, shared", CASES, ids=IDS)
def test_compatibility(held, wanted, shared, ipc, spawn, channel, observe):
    """A second process's F_SETLK is granted only when both locks are read locks."""
    path = make_file(ipc.path("locked"))
    ready, release = channel(), channel()
    spawn(hold_fcntl_lock, path, held, 0, 0, ready, release, name="first locker")
    ready.recv(what="first locker")
    outcome = spawn.run(try_setlk, path, wanted, timeout=2).unwrap()
    observe("second_lock", outcome)
    expected = "granted" if shared else "EACCES or EAGAIN"
    assert (outcome == "granted") if shared else is_refusal(outcome), (
        f"{TYPE_NAMES[wanted]} while another process holds {TYPE_NAMES[held]}: "
        f"expected {expected}, kernel gave {outcome}")


@pytest.mark.claim("lock.fcntl.shared")
def test_many_readers_hold_at_once(ipc, spawn, channel, observe):
    """Three processes hold F_RDLCK on the whole file at the same time; a writer is refused."""
    path = make_file(ipc.path("locked"))
    release = channel()
    readers = []
    for n in range(3):
        ready = channel()
        readers.append(spawn(hold_fcntl_lock, path, F_RDLCK, 0, 0, ready, release,
                             name=f"reader {n}"))
        assert ready.recv(what=f"reader {n}")[0] == "locked"
    observe("readers", len(readers))
    outcome = spawn.run(try_setlk, path, F_WRLCK, timeout=2).unwrap()
    observe("writer", outcome)
    assert is_refusal(outcome), f"expected a writer to be refused by 3 readers, kernel gave {outcome}"
