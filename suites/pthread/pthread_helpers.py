"""Children of the pthread suite: a holder that takes a lock, says so, and keeps it until told."""
from fixtures import pthread_shared as ps


def hold(lock, obj, held, release, unlock=None):
    """Take `obj` with `lock` (a pthread_shared call), send its return value on channel `held`,
    wait for a word on channel `release`, then unlock it with `unlock` (or, with unlock=None,
    return still holding it: the process exits as the owner)."""
    rc = lock(obj)
    held.send(ps.name(rc))
    release.recv(timeout=10, what="the test's release")
    if unlock is not None:
        unlock(obj)
    return ps.name(rc)
